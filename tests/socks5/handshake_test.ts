import { test } from "node:test";
import assert from "node:assert/strict";
import fc from "fast-check";
import {
  Socks5Handshake,
  Socks5Reply,
  socks5Reply,
  socks5ReplyForError,
  type Socks5Step,
} from "../../src/proxy/layers/socks5.ts";

const hex = (s: string) =>
  Uint8Array.from(s.replace(/\s+/g, "").match(/../g) ?? [], (b) => parseInt(b, 16));
const ascii = (s: string) => new TextEncoder().encode(s);
function concat(...parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let o = 0;
  for (const p of parts) (out.set(p, o), (o += p.length));
  return out;
}

/** Whole, byte by byte, and in pieces of 3: the result must not depend on how bytes arrive. */
function feedAllWays(
  bytes: Uint8Array,
  credentials: { username: string; password: string } | null = null,
) {
  const results: Socks5Step[] = [];
  for (const size of [bytes.length, 1, 3]) {
    const hs = new Socks5Handshake({ credentials });
    const merged: Socks5Step = { send: [], request: null, error: null };
    for (let i = 0; i < bytes.length; i += size) {
      const step = hs.receive(bytes.subarray(i, i + size));
      merged.send.push(...step.send);
      merged.request ??= step.request;
      merged.error ??= step.error;
      // leftover that arrives after the request in later chunks is the caller's, not ours
      if (merged.request || merged.error) {
        if (merged.request) {
          merged.request.leftover = concat(merged.request.leftover, bytes.subarray(i + size));
        }
        break;
      }
    }
    results.push(merged);
  }
  for (const r of results.slice(1)) assert.deepEqual(r, results[0]);
  return results[0];
}

const GREETING = hex("05 01 00");
const CLIENT_HELLO = hex("16 03 01 00 05 01 00 00 01 00");

test("no auth, CONNECT to a domain name: method reply, request, and pipelined bytes as leftover", () => {
  const req = concat(hex("05 01 00 03 0b"), ascii("example.com"), hex("01 bb"));
  const step = feedAllWays(concat(GREETING, req, CLIENT_HELLO));
  assert.deepEqual(step.send, [hex("05 00")]);
  assert.equal(step.error, null);
  assert.deepEqual(step.request, {
    host: "example.com",
    port: 443,
    addressType: "domain",
    username: null,
    leftover: CLIENT_HELLO,
  });
});

test("CONNECT to IPv4 and IPv6 addresses", () => {
  const v4 = feedAllWays(concat(GREETING, hex("05 01 00 01 0a 00 02 02 22 3d")));
  assert.deepEqual([v4.request!.host, v4.request!.port, v4.request!.addressType], [
    "10.0.2.2",
    8765,
    "ipv4",
  ]);
  const v6 = feedAllWays(
    concat(GREETING, hex("05 01 00 04 fd 77 00 02 00 00 00 00 00 00 00 00 00 00 00 02 00 50")),
  );
  assert.deepEqual([v6.request!.host, v6.request!.port, v6.request!.addressType], [
    "fd77:2::2",
    80,
    "ipv6",
  ]);
  const loop = feedAllWays(
    concat(GREETING, hex("05 01 00 04 00000000000000000000000000000001 00 50")),
  );
  assert.equal(loop.request!.host, "::1");
  assert.deepEqual(loop.request!.leftover, new Uint8Array(0));
});

test("username/password (RFC 1929): right credentials pass, wrong ones get 01 01", () => {
  const credentials = { username: "user", password: "pa:ss" };
  const auth = concat(hex("01 04"), ascii("user"), hex("05"), ascii("pa:ss"));
  const req = hex("05 01 00 01 7f 00 00 01 00 50");
  const ok = feedAllWays(concat(hex("05 02 00 02"), auth, req), credentials);
  assert.deepEqual(ok.send, [hex("05 02"), hex("01 00")]);
  assert.equal(ok.request!.username, "user");
  const bad = feedAllWays(
    concat(hex("05 01 02"), hex("01 04"), ascii("user"), hex("02"), ascii("no"), req),
    credentials,
  );
  assert.deepEqual(bad.send, [hex("05 02"), hex("01 01")]);
  assert.equal(bad.request, null);
  assert.match(bad.error!, /wrong username or password/);
});

test("no acceptable method: 05 ff (no-auth client when credentials are required, and the reverse)", () => {
  const needAuth = feedAllWays(GREETING, { username: "u", password: "p" });
  assert.deepEqual(needAuth.send, [hex("05 ff")]);
  assert.match(needAuth.error!, /username\/password/);
  const onlyAuth = feedAllWays(hex("05 01 02"));
  assert.deepEqual(onlyAuth.send, [hex("05 ff")]);
});

test("unsupported command (BIND, UDP ASSOCIATE) gets 07; unknown address type gets 08", () => {
  for (const cmd of ["02", "03"]) {
    const step = feedAllWays(concat(GREETING, hex(`05 ${cmd} 00 01 7f 00 00 01 00 50`)));
    assert.deepEqual(step.send, [hex("05 00"), hex("05 07 00 01 00 00 00 00 00 00")]);
    assert.match(step.error!, /not supported/);
  }
  const atyp = feedAllWays(concat(GREETING, hex("05 01 00 05 00 00")));
  assert.deepEqual(atyp.send[1], hex("05 08 00 01 00 00 00 00 00 00"));
});

test("not SOCKS5 (an HTTP request, SOCKS4): fails without a reply", () => {
  assert.match(feedAllWays(ascii("GET / HTTP/1.1\r\n\r\n")).error!, /not SOCKS5/);
  const v4 = feedAllWays(hex("04 01 00 50 7f 00 00 01 00"));
  assert.deepEqual(v4.send, []);
  assert.match(v4.error!, /version byte 4/);
});

test("incomplete input asks for more; input after the request is ignored by the handshake", () => {
  const hs = new Socks5Handshake({ credentials: null });
  assert.deepEqual(hs.receive(hex("05")), { send: [], request: null, error: null });
  assert.deepEqual(hs.receive(hex("01")).send, []);
  assert.deepEqual(hs.receive(hex("00 05 01 00 03")).send, [hex("05 00")]);
  assert.equal(hs.receive(hex("03 61 62")).request, null);
  assert.equal(hs.receive(hex("63 00")).request, null);
  assert.equal(hs.receive(hex("50")).request!.host, "abc");
  assert.deepEqual(hs.receive(hex("00")), { send: [], request: null, error: null });
});

test("replies: success with an IPv4 or IPv6 bound address, and every error code", () => {
  assert.deepEqual(
    socks5Reply(Socks5Reply.Succeeded, { host: "10.77.2.1", port: 40000 }),
    hex("05 00 00 01 0a 4d 02 01 9c 40"),
  );
  assert.deepEqual(
    socks5Reply(Socks5Reply.Succeeded, { host: "::ffff:127.0.0.1", port: 80 }),
    hex("05 00 00 01 7f 00 00 01 00 50"),
  );
  assert.deepEqual(
    socks5Reply(Socks5Reply.Succeeded, { host: "fd77:2::1", port: 443 }),
    hex("05 00 00 04 fd 77 00 02 00 00 00 00 00 00 00 00 00 00 00 01 01 bb"),
  );
  const codes: [keyof typeof Socks5Reply, number][] = [
    ["GeneralFailure", 1],
    ["NotAllowed", 2],
    ["NetworkUnreachable", 3],
    ["HostUnreachable", 4],
    ["ConnectionRefused", 5],
    ["CommandNotSupported", 7],
    ["AddressTypeNotSupported", 8],
  ];
  for (const [name, code] of codes) {
    assert.deepEqual(
      socks5Reply(Socks5Reply[name]),
      Uint8Array.of(5, code, 0, 1, 0, 0, 0, 0, 0, 0),
      name,
    );
  }
  assert.equal(socks5ReplyForError("refused"), 5);
  assert.equal(socks5ReplyForError("dns"), 4);
  assert.equal(socks5ReplyForError("unreachable"), 3);
  assert.equal(socks5ReplyForError("tls"), 1);
});

test("any bytes in a handshake's shape, whole or in pieces: no exception, one outcome (fast-check)", () => {
  const part = (...options: Uint8Array[]) => fc.constantFrom(...options, new Uint8Array(0));
  const shaped = fc.tuple(
    part(
      GREETING,
      hex("05 02 00 02"),
      hex("05 01 02"),
      hex("04 01 00"),
      hex("05 00"),
      hex("05 ff"),
    ),
    part(
      concat(hex("01 01"), ascii("u"), hex("01"), ascii("p")),
      concat(hex("01 01"), ascii("u"), hex("01"), ascii("x")),
      hex("02 00 00"),
    ),
    part(
      concat(hex("05 01 00 03 0b"), ascii("example.com"), hex("01 bb")),
      hex("05 01 00 01 7f 00 00 01 00 50"),
      concat(hex("05 01 00 04"), new Uint8Array(15).fill(0), hex("01 01 bb")),
      hex("05 02 00 01 7f 00 00 01 00 50"),
      hex("05 01 00 03 00 00 50"),
      hex("05 01 00 09 00"),
    ),
    fc.uint8Array({ maxLength: 12 }),
  ).map((parts) => concat(...parts));
  fc.assert(
    fc.property(
      fc.oneof(shaped, fc.uint8Array({ maxLength: 48 })),
      fc.boolean(),
      (bytes, auth) => {
        const step = feedAllWays(bytes, auth ? { username: "u", password: "p" } : null);
        // Never both: a request, or an error, or (bytes ran out) neither yet.
        assert.ok(step.request === null || step.error === null);
      },
    ),
    { numRuns: 3000 },
  );
});
