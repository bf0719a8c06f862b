/**
 * The sans-IO ClientHello parser (src/tls/client_hello.ts) on real ClientHellos, captured here
 * from curl and `openssl s_client` by a raw TCP server on 127.0.0.1, and on crafted bytes: split
 * into tiny pieces, re-framed into many records, not TLS, malformed, too large.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import fc from "fast-check";
import net from "node:net";
import {
  acceptsEcdsa,
  type ClientHello,
  type HelloResult,
  looksLikeTls,
  MAX_HELLO_BYTES,
  parseClientHello,
} from "../../src/tls/client_hello.ts";

const TLS13 = 0x0304;
const TLS12 = 0x0303;

// --- Capturing real ClientHellos ------------------------------------------------------------

interface Captured {
  bytes: Uint8Array;
  result: HelloResult;
  /** How many times the parser said "need-more" before it had a result. */
  needMore: number;
}

/**
 * Starts a TCP server on 127.0.0.1, runs the client made by `argv(port)`, and feeds the parser
 * what arrives until it returns something other than "need-more"; then drops the connection
 * (the client fails, which is fine) and waits for the client to exit.
 */
async function capture(argv: (port: number) => [string, string[]]): Promise<Captured> {
  let settle!: (c: Captured) => void;
  let fail!: (e: Error) => void;
  const captured = new Promise<Captured>((resolve, reject) => {
    settle = resolve;
    fail = reject;
  });
  const server = net.createServer((socket) => {
    let bytes = new Uint8Array(0);
    let needMore = 0;
    socket.on("error", () => {});
    socket.on("data", (chunk: Uint8Array) => {
      const next = new Uint8Array(bytes.length + chunk.length);
      next.set(bytes);
      next.set(chunk, bytes.length);
      bytes = next;
      const result = parseClientHello(bytes);
      if (result.kind === "need-more") {
        needMore++;
        return;
      }
      socket.destroy();
      settle({ bytes, result, needMore });
    });
    socket.on("end", () => fail(new Error(`client closed after ${bytes.length} bytes`)));
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  const port = (server.address() as net.AddressInfo).port;
  const [cmd, args] = argv(port);
  let output = "";
  const exited = new Promise<void>((resolve) => {
    const child = execFile(cmd, args, { timeout: 15_000 }, (_e, stdout, stderr) => {
      output = String(stdout) + String(stderr);
      resolve();
    });
    child.stdin?.end();
  });
  let timer: ReturnType<typeof setTimeout> | undefined;
  try {
    return await Promise.race([
      captured,
      exited.then(() => {
        throw new Error(`${cmd} exited before sending a ClientHello: ${output}`);
      }),
      new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error(`no ClientHello from ${cmd}`)), 15_000);
      }),
    ]);
  } finally {
    clearTimeout(timer);
    await exited;
    await new Promise<void>((r) => server.close(() => r()));
  }
}

function curl(...args: string[]): (port: number) => [string, string[]] {
  return (port) => [
    "curl",
    [
      "-k",
      "-sS",
      "--max-time",
      "10",
      "--connect-to",
      `x.test:443:127.0.0.1:${port}`,
      ...args,
      "https://x.test/",
    ],
  ];
}

function sClient(...args: string[]): (port: number) => [string, string[]] {
  return (port) => ["openssl", ["s_client", "-connect", `127.0.0.1:${port}`, ...args]];
}

function helloOf(c: Captured): ClientHello {
  assert.equal(c.result.kind, "hello", JSON.stringify(c.result));
  return (c.result as { hello: ClientHello }).hello;
}

let curlHello: Promise<Captured> | null = null;
/** One curl ClientHello for the tests that slice it up. */
function curlBytes(): Promise<Captured> {
  return curlHello ??= capture(curl());
}

test("curl's ClientHello: SNI, ALPN h2 and http/1.1, TLS 1.3 and 1.2", async () => {
  const c = await curlBytes();
  const hello = helloOf(c);
  assert.equal(hello.sni, "x.test");
  assert.deepEqual(hello.alpn, ["h2", "http/1.1"]);
  assert.equal(hello.versions[0], TLS13);
  assert.ok(hello.versions.includes(TLS12), hello.versions.map((v) => v.toString(16)).join());
  // curl sends the ClientHello and waits: the record(s) carrying it are everything received.
  assert.equal(hello.length, c.bytes.length);
});

test("curl --http1.1 --tls-max 1.2: ALPN http/1.1 only, legacy version 1.2 (no supported_versions)", async () => {
  const hello = helloOf(await capture(curl("--http1.1", "--tlsv1.2", "--tls-max", "1.2")));
  assert.equal(hello.sni, "x.test");
  assert.deepEqual(hello.alpn, ["http/1.1"]);
  assert.deepEqual(hello.versions, [TLS12]);
});

test("openssl s_client -servername -alpn: SNI, ALPN list in order, versions", async () => {
  const c = await capture(sClient("-servername", "x.test", "-alpn", "h2,http/1.1"));
  const hello = helloOf(c);
  assert.equal(hello.sni, "x.test");
  assert.deepEqual(hello.alpn, ["h2", "http/1.1"]);
  assert.equal(hello.versions[0], TLS13);
  assert.ok(hello.versions.includes(TLS12));
  // Whatever else this OpenSSL's configuration allows: TLS 1.0 to 1.3, newest first.
  assert.ok(hello.versions.every((v) => v >= 0x0301 && v <= TLS13), String(hello.versions));
  assert.deepEqual(hello.versions, [...hello.versions].sort((a, b) => b - a));
  assert.equal(hello.length, c.bytes.length);
});

test("openssl s_client -noservername: no SNI (null), no ALPN", async () => {
  const hello = helloOf(await capture(sClient("-noservername")));
  assert.equal(hello.sni, null);
  assert.deepEqual(hello.alpn, []);
  assert.equal(hello.versions[0], TLS13);
});

test("openssl s_client -tls1_2: versions is the legacy version", async () => {
  const hello = helloOf(await capture(sClient("-servername", "old.test", "-tls1_2")));
  assert.equal(hello.sni, "old.test");
  assert.deepEqual(hello.versions, [TLS12]);
});

test("SNI is lowercased and loses a trailing dot", async () => {
  const hello = helloOf(await capture(sClient("-servername", "MiXeD.Example.Test.")));
  assert.equal(hello.sni, "mixed.example.test");
});

test("a real ClientHello in pieces: need-more for every prefix, the hello once complete", async () => {
  const { bytes } = await curlBytes();
  const whole = parseClientHello(bytes);
  for (let i = 0; i < bytes.length; i++) {
    const r = parseClientHello(bytes.subarray(0, i));
    if (r.kind !== "need-more") assert.fail(`prefix of ${i} bytes gave ${JSON.stringify(r)}`);
  }
  assert.deepEqual(parseClientHello(bytes), whole);
  // Accumulated from pieces of 1 to 7 bytes (copies, not views of the original buffer).
  let acc = new Uint8Array(0);
  let result: HelloResult = { kind: "need-more" };
  let pieces = 0;
  for (let i = 0; i < bytes.length;) {
    const n = 1 + (i % 7);
    const next = new Uint8Array(acc.length + Math.min(n, bytes.length - i));
    next.set(acc);
    next.set(bytes.slice(i, i + n), acc.length);
    acc = next;
    i += n;
    pieces++;
    result = parseClientHello(acc);
    if (i < bytes.length) assert.equal(result.kind, "need-more");
  }
  assert.ok(pieces > 100);
  assert.deepEqual(result, whole);
});

// --- Crafted ClientHellos ---------------------------------------------------------------------

function cat(...parts: (Uint8Array | number[])[]): Uint8Array {
  const arrays = parts.map((p) => (p instanceof Uint8Array ? p : Uint8Array.from(p)));
  const out = new Uint8Array(arrays.reduce((n, a) => n + a.length, 0));
  let o = 0;
  for (const a of arrays) {
    out.set(a, o);
    o += a.length;
  }
  return out;
}
const u16 = (n: number) => [n >> 8, n & 0xff];
const u24 = (n: number) => [n >> 16, (n >> 8) & 0xff, n & 0xff];
const vec8 = (b: Uint8Array | number[]) => cat([b.length], b);
const vec16 = (b: Uint8Array | number[]) => cat(u16(b.length), b);
const ascii = (s: string) => Uint8Array.from(s, (c) => c.charCodeAt(0));
const ext = (type: number, body: Uint8Array | number[]) => cat(u16(type), vec16(body));
const sniExt = (name: Uint8Array) => ext(0, vec16(cat([0], vec16(name))));
const alpnExt = (protocols: string[]) =>
  ext(16, vec16(cat(...protocols.map((p) => vec8(ascii(p))))));
const versionsExt = (versions: number[]) => ext(43, vec8(cat(...versions.map(u16))));

const sigalgsExt = (schemes: number[]) => ext(13, vec16(cat(...schemes.map(u16))));

/** A ClientHello body; `extensions` null for none at all (not even the length). */
function body(
  extensions: Uint8Array | null,
  legacyVersion = TLS12,
  suites = [0x1301, 0x1302, 0xc02f],
): Uint8Array {
  return cat(
    u16(legacyVersion),
    new Uint8Array(32).fill(7), // random
    vec8(new Uint8Array(32).fill(1)), // legacy_session_id
    vec16(cat(...suites.map(u16))), // cipher_suites
    vec8([0]), // legacy_compression_methods: null
    extensions === null ? [] : vec16(extensions),
  );
}

/** A handshake message: type, 24-bit length, body. */
function handshake(msgBody: Uint8Array, type = 1): Uint8Array {
  return cat([type], u24(msgBody.length), msgBody);
}

/** `msg` framed into records of at most `size` bytes. */
function records(msg: Uint8Array, size = 16384, type = 22): Uint8Array {
  const parts: Uint8Array[] = [];
  for (let i = 0; i < msg.length; i += size) {
    const frag = msg.subarray(i, Math.min(i + size, msg.length));
    parts.push(cat([type, 3, 1], u16(frag.length), frag));
  }
  return cat(...parts);
}

/** The handshake message inside `bytes` (the fragments of its records, joined). */
function unframe(bytes: Uint8Array): Uint8Array {
  const frags: Uint8Array[] = [];
  for (let pos = 0; pos < bytes.length;) {
    const len = (bytes[pos + 3] << 8) | bytes[pos + 4];
    frags.push(bytes.subarray(pos + 5, pos + 5 + len));
    pos += 5 + len;
  }
  return cat(...frags);
}

const STANDARD = cat(
  sniExt(ascii("crafted.test")),
  alpnExt(["h2", "http/1.1"]),
  versionsExt([TLS13, TLS12]),
  ext(0x0a, vec16([0x00, 0x1d])), // supported_groups, ignored
);

function expectInvalid(bytes: Uint8Array, reason?: RegExp): void {
  const r = parseClientHello(bytes);
  assert.equal(r.kind, "invalid", JSON.stringify(r));
  if (reason) assert.match((r as { reason: string }).reason, reason);
}

test("a crafted ClientHello: SNI, ALPN, versions; length counts its records only", () => {
  const bytes = records(handshake(body(STANDARD)));
  const r = parseClientHello(bytes);
  assert.deepEqual(r, {
    kind: "hello",
    hello: {
      sni: "crafted.test",
      alpn: ["h2", "http/1.1"],
      versions: [TLS13, TLS12],
      cipherSuites: [0x1301, 0x1302, 0xc02f],
      signatureAlgorithms: null,
      length: bytes.length,
    },
  });
  // Bytes behind the ClientHello's records (the client's next flight) are not counted.
  const more = cat(bytes, [23, 3, 3, 0, 2, 0xaa, 0xbb]);
  const again = parseClientHello(more);
  assert.equal(again.kind, "hello");
  assert.equal((again as { hello: ClientHello }).hello.length, bytes.length);
});

test("no extensions at all: no SNI, no ALPN, versions = [legacy_version]", () => {
  const r = parseClientHello(records(handshake(body(null, 0x0301))));
  assert.deepEqual(r, {
    kind: "hello",
    hello: {
      sni: null,
      alpn: [],
      versions: [0x0301],
      cipherSuites: [0x1301, 0x1302, 0xc02f],
      signatureAlgorithms: null,
      length: r.kind === "hello" ? r.hello.length : 0,
    },
  });
  const empty = parseClientHello(records(handshake(body(new Uint8Array(0)))));
  assert.equal(empty.kind, "hello");
  assert.deepEqual((empty as { hello: ClientHello }).hello.versions, [TLS12]);
});

test("a real ClientHello re-framed into 50-byte records, and into 1-byte records", async () => {
  const { bytes } = await curlBytes();
  const whole = parseClientHello(bytes) as { kind: "hello"; hello: ClientHello };
  const msg = unframe(bytes);
  for (const size of [50, 3, 1]) {
    const split = records(msg, size);
    assert.ok(split.length > bytes.length);
    const r = parseClientHello(split);
    assert.equal(r.kind, "hello", `records of ${size}: ${JSON.stringify(r)}`);
    const hello = (r as { hello: ClientHello }).hello;
    assert.deepEqual({ ...hello, length: 0 }, { ...whole.hello, length: 0 });
    assert.equal(hello.length, split.length);
    // Every cut before the end, including between and inside record headers, wants more.
    const step = size === 50 ? 1 : 97;
    for (let i = 0; i < split.length; i += step) {
      const p = parseClientHello(split.subarray(0, i));
      if (p.kind !== "need-more") {
        assert.fail(`records of ${size}, prefix ${i}: ${JSON.stringify(p)}`);
      }
    }
  }
});

test("not TLS: plain HTTP and other first bytes", () => {
  for (
    const text of [
      "GET / HTTP/1.1\r\nHost: x\r\n\r\n",
      "G",
      "CONNECT x:443 HTTP/1.1\r\n",
      "SSH-2.0-x\r\n",
    ]
  ) {
    assert.deepEqual(parseClientHello(ascii(text)), { kind: "not-tls" }, JSON.stringify(text));
    assert.equal(looksLikeTls(ascii(text)), false);
  }
  // 0x16 followed by something other than major version 3; SSLv2-style hello; an alert record.
  assert.deepEqual(parseClientHello(Uint8Array.of(0x16, 0x02, 0x00)), { kind: "not-tls" });
  assert.deepEqual(parseClientHello(Uint8Array.of(0x80, 0x2e, 0x01, 0x03, 0x01)), {
    kind: "not-tls",
  });
  assert.deepEqual(parseClientHello(Uint8Array.of(0x15, 0x03, 0x01, 0x00, 0x02, 2, 40)), {
    kind: "not-tls",
  });
  // Too short to tell yet.
  assert.deepEqual(parseClientHello(new Uint8Array(0)), { kind: "need-more" });
  assert.deepEqual(parseClientHello(Uint8Array.of(0x16)), { kind: "need-more" });
  assert.equal(looksLikeTls(Uint8Array.of(0x16)), true);
  assert.equal(looksLikeTls(Uint8Array.of(0x16, 0x03)), true);
  assert.equal(looksLikeTls(new Uint8Array(0)), false);
});

test("invalid: a later record that is not a handshake record, or not version 3.x", () => {
  const split = records(handshake(body(STANDARD)), 50);
  const alert = split.slice();
  alert[55] = 21; // the second record's type
  expectInvalid(alert, /not a handshake record/);
  const appData = split.slice();
  appData[55] = 23;
  expectInvalid(appData, /not a handshake record/);
  const version = split.slice();
  version[56] = 2;
  expectInvalid(version, /not 3\.x/);
});

test("invalid: record lengths out of range (0, over 2^14)", () => {
  expectInvalid(Uint8Array.of(22, 3, 1, 0, 0), /record length/);
  // 2^14 + 1: over the plaintext limit, refused as soon as the header is seen.
  expectInvalid(Uint8Array.of(22, 3, 1, 0x40, 0x01), /record length/);
  expectInvalid(Uint8Array.of(22, 3, 1, 0xff, 0xff), /record length/);
  // A 2^14 record is fine and wants its bytes.
  assert.equal(parseClientHello(Uint8Array.of(22, 3, 1, 0x40, 0x00, 1)).kind, "need-more");
  // An empty record after the first.
  const split = records(handshake(body(STANDARD)), 50);
  expectInvalid(cat(split.subarray(0, 55), [22, 3, 1, 0, 0]), /record length/);
});

test("invalid: the first handshake message is not a ClientHello", () => {
  expectInvalid(records(handshake(body(STANDARD), 2)), /not a ClientHello/);
  // Decided as soon as the 4-byte header is in, even across 1-byte records.
  expectInvalid(records(Uint8Array.of(2, 0, 0, 100), 1), /not a ClientHello/);
});

test("invalid: a huge declared ClientHello length, without waiting for the bytes", () => {
  expectInvalid(records(Uint8Array.of(1, 0xff, 0xff, 0xff)), /larger than 64 KiB/);
  expectInvalid(records(cat([1], u24(MAX_HELLO_BYTES), [3, 3])), /larger than 64 KiB/);
  // Just under the limit: need more.
  assert.equal(
    parseClientHello(records(cat([1], u24(MAX_HELLO_BYTES - 4), [3, 3]))).kind,
    "need-more",
  );
  // A ClientHello that is large but complete is parsed (padding extension of 30000 bytes).
  const big = records(handshake(body(cat(STANDARD, ext(21, new Uint8Array(30000))))));
  assert.equal(parseClientHello(big).kind, "hello");
});

test("invalid: truncated fields and lengths that run past their container", () => {
  const hello = (exts: Uint8Array | null, raw?: Uint8Array) =>
    records(handshake(raw ?? body(exts)));
  // The extensions block claims more bytes than the message has.
  const b = body(STANDARD);
  const lying = b.slice();
  const extLenAt = b.length - STANDARD.length - 2;
  lying[extLenAt + 1] += 10;
  expectInvalid(hello(null, lying), /truncated/);
  // An extension whose length runs past the block.
  expectInvalid(hello(cat(u16(0), u16(100), [0, 1])), /truncated/);
  // server_name list longer than the extension; a name longer than the list.
  expectInvalid(hello(ext(0, cat(u16(50), [0], vec16(ascii("a.test"))))), /truncated/);
  expectInvalid(hello(ext(0, vec16(cat([0], u16(40), ascii("a.test"))))), /truncated/);
  // ALPN protocol longer than the list; supported_versions with an odd length.
  expectInvalid(hello(ext(16, vec16(cat([9], ascii("h2"))))), /truncated/);
  expectInvalid(hello(ext(43, [3, 3, 4, 3])), /truncated/);
  // The body cut inside the random, inside the cipher suites.
  expectInvalid(hello(null, body(null).subarray(0, 20)), /truncated/);
  expectInvalid(hello(null, body(null).subarray(0, 70)), /truncated/);
  // An empty ClientHello.
  expectInvalid(records(Uint8Array.of(1, 0, 0, 0)), /truncated/);
});

test("invalid: a server name that is empty, not ASCII, or holds spaces or control bytes", () => {
  const hello = (name: Uint8Array) => records(handshake(body(sniExt(name))));
  expectInvalid(hello(new Uint8Array(0)), /empty/);
  expectInvalid(hello(ascii(".")), /empty/);
  expectInvalid(hello(Uint8Array.of(0x78, 0xc3, 0xa9, 0x2e, 0x74)), /not printable ASCII/);
  expectInvalid(hello(ascii("a b.test")), /not printable ASCII/);
  expectInvalid(hello(ascii("a\x00.test")), /not printable ASCII/);
  expectInvalid(hello(ascii("a\x7f.test")), /not printable ASCII/);
  // A server_name list with only other name types: no SNI.
  const otherType = records(handshake(body(ext(0, vec16(cat([1], vec16(ascii("x.test"))))))));
  const r = parseClientHello(otherType);
  assert.equal(r.kind, "hello");
  assert.equal((r as { hello: ClientHello }).hello.sni, null);
});

test("too many bytes without a complete ClientHello: invalid instead of buffering on", () => {
  // Declares a ClientHello just under 64 KiB, then sends it in 1-byte records (6 bytes each):
  // the message never completes within the buffer cap.
  const msg = cat([1], u24(MAX_HELLO_BYTES - 4), new Uint8Array(MAX_HELLO_BYTES - 4).fill(0xff));
  const all = records(msg, 1);
  let result: HelloResult = { kind: "need-more" };
  let fed = 0;
  while (result.kind === "need-more" && fed < all.length) {
    fed = Math.min(fed + 4096, all.length);
    result = parseClientHello(all.subarray(0, fed));
  }
  assert.deepEqual(result, { kind: "invalid", reason: "ClientHello is larger than 64 KiB" });
  assert.ok(fed > MAX_HELLO_BYTES + 1024 && fed <= MAX_HELLO_BYTES + 1024 + 4096, String(fed));
});

test("which clients can use an ECDSA leaf: TLS 1.3 or an ECDSA suite, and an ECDSA signature", () => {
  const hello = (exts: Uint8Array, suites: number[]) => {
    const r = parseClientHello(records(handshake(body(exts, TLS12, suites))));
    assert.equal(r.kind, "hello");
    return (r as { hello: ClientHello }).hello;
  };
  const v13 = versionsExt([TLS13, TLS12]);
  const v12 = versionsExt([TLS12]);
  const ecdsaSig = sigalgsExt([0x0804, 0x0403]);
  const rsaSig = sigalgsExt([0x0804, 0x0401]);
  const parsed = hello(cat(v13, ecdsaSig), [0x1301]);
  assert.deepEqual(parsed.cipherSuites, [0x1301]);
  assert.deepEqual(parsed.signatureAlgorithms, [0x0804, 0x0403]);
  assert.equal(acceptsEcdsa(parsed), true, "TLS 1.3 with ECDSA signatures");
  assert.equal(acceptsEcdsa(hello(cat(v13, rsaSig), [0x1301, 0xc02b])), false, "RSA signatures");
  assert.equal(acceptsEcdsa(hello(cat(v12, ecdsaSig), [0xc02b])), true, "ECDHE-ECDSA suite");
  assert.equal(acceptsEcdsa(hello(cat(v12, ecdsaSig), [0xc02f, 0x002f])), false, "RSA suites");
  assert.equal(acceptsEcdsa(hello(v12, [0x002f])), false, "AES128-SHA, no signature_algorithms");
  assert.equal(acceptsEcdsa(hello(v12, [0xc009])), true, "ECDHE-ECDSA-AES128-SHA, no sigalgs");
  // TLS 1.3 offered without a TLS 1.3 suite: the 1.2 suites decide.
  assert.equal(acceptsEcdsa(hello(cat(v13, ecdsaSig), [0xc02f])), false);
});

test("real clients: curl's default hello accepts ECDSA; openssl with RSA-only choices does not", async () => {
  assert.equal(acceptsEcdsa(helloOf(await curlBytes())), true);
  for (
    const args of [
      ["-tls1_2", "-cipher", "AES128-SHA"],
      ["-sigalgs", "RSA+SHA256:RSA-PSS+SHA256"],
      ["-tls1_2", "-cipher", "ECDHE-RSA-AES128-GCM-SHA256"],
    ]
  ) {
    const hello = helloOf(await capture(sClient(...args)));
    assert.equal(acceptsEcdsa(hello), false, args.join(" "));
  }
});

test("any mutation of a ClientHello, in any records: no exception, a known answer (fast-check)", () => {
  const valid = records(handshake(body(STANDARD)));
  const mutated = fc.record({
    size: fc.integer({ min: 1, max: 400 }),
    flips: fc.array(fc.tuple(fc.nat(), fc.nat(255)), { maxLength: 6 }),
    cut: fc.option(fc.nat(), { nil: null }),
    tail: fc.uint8Array({ maxLength: 20 }),
  }).map(({ size, flips, cut, tail }) => {
    const bytes = cat(records(handshake(body(STANDARD)), size), tail);
    for (const [at, value] of flips) bytes[at % bytes.length] = value;
    return cut === null ? bytes : bytes.subarray(0, cut % (bytes.length + 1));
  });
  const kinds = ["hello", "need-more", "not-tls", "invalid"];
  fc.assert(
    fc.property(fc.oneof(mutated, fc.uint8Array({ maxLength: 300 })), (bytes) => {
      const r = parseClientHello(bytes);
      assert.ok(kinds.includes(r.kind), JSON.stringify(r));
      if (r.kind === "hello") assert.ok(r.hello.length <= bytes.length);
    }),
    { numRuns: 3000 },
  );
  // Untouched, it is the hello in any record size, and every strict prefix needs more.
  for (const size of [1, 7, 100]) {
    const bytes = records(handshake(body(STANDARD)), size);
    assert.equal(parseClientHello(bytes).kind, "hello");
    for (let n = 1; n < bytes.length; n += 13) {
      assert.equal(parseClientHello(bytes.subarray(0, n)).kind, "need-more", `prefix ${n}`);
    }
  }
  assert.equal(parseClientHello(valid).kind, "hello");
});
