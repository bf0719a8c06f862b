/**
 * Interop with a real client: curl --socks5-hostname (domain names), --socks5 (IPv4 resolved by
 * curl) and --proxy-user (RFC 1929) against a tiny SOCKS5 server built on Socks5Handshake that
 * relays to a local origin.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import http from "node:http";
import type { AddressInfo } from "node:net";
import { nodeNetwork } from "../../src/runtime/node/net.ts";
import type { Conn, Listener, NetError } from "../../src/runtime/types.ts";
import {
  Socks5Handshake,
  type Socks5Options,
  Socks5Reply,
  socks5Reply,
  socks5ReplyForError,
} from "../../src/proxy/layers/socks5.ts";

async function pipe(from: Conn, to: Conn): Promise<void> {
  try {
    for (let c = await from.read(); c !== null; c = await from.read()) await to.write(c);
    to.closeWrite();
  } catch {
    from.close();
    to.close();
  }
}

/** The I/O loop a proxy would have: no protocol decisions, only what the handshake says. */
async function serveSocks5(conn: Conn, options: Socks5Options, seen: string[]): Promise<void> {
  const hs = new Socks5Handshake(options);
  for (;;) {
    const chunk = await conn.read();
    if (chunk === null) return conn.close();
    const step = hs.receive(chunk);
    for (const b of step.send) await conn.write(b);
    if (step.error !== null) {
      seen.push(`error: ${step.error}`);
      await conn.flushed();
      return conn.close();
    }
    if (step.request === null) continue;
    const { host, port, addressType, leftover } = step.request;
    seen.push(`${addressType} ${host}:${port}`);
    let origin: Conn;
    try {
      origin = await nodeNetwork.connect({ host, port, timeoutMs: 5000 });
    } catch (e) {
      await conn.write(socks5Reply(socks5ReplyForError((e as NetError).code)));
      await conn.flushed();
      return conn.close();
    }
    await conn.write(socks5Reply(Socks5Reply.Succeeded, origin.local));
    if (leftover.length > 0) await origin.write(leftover);
    await Promise.all([pipe(conn, origin), pipe(origin, conn)]);
    return;
  }
}

async function withServers(
  options: Socks5Options,
  fn: (socksPort: number, originPort: number, seen: string[]) => Promise<void>,
) {
  const origin = http.createServer((req, res) => res.end(`hello ${req.url}`));
  await new Promise<void>((r) => origin.listen(0, "127.0.0.1", r));
  const seen: string[] = [];
  const socks: Listener = await nodeNetwork.listen(
    { host: "127.0.0.1", port: 0 },
    (conn) => void serveSocks5(conn, options, seen),
  );
  try {
    await fn(socks.address.port, (origin.address() as AddressInfo).port, seen);
  } finally {
    await socks.close();
    origin.closeAllConnections?.();
    await new Promise((r) => origin.close(r));
  }
}

function curl(args: string[]): Promise<{ code: number; out: string; err: string }> {
  return new Promise((resolve) => {
    const child = spawn("curl", ["-sS", "--max-time", "10", ...args]);
    let out = "", err = "";
    child.stdout.on("data", (d) => (out += d));
    child.stderr.on("data", (d) => (err += d));
    child.on("close", (code) => resolve({ code: code ?? -1, out, err }));
  });
}

test("curl --socks5-hostname sends the domain name; the relay reaches the origin", async () => {
  await withServers({ credentials: null }, async (socksPort, originPort, seen) => {
    const r = await curl([
      "--socks5-hostname",
      `127.0.0.1:${socksPort}`,
      `http://localhost:${originPort}/a`,
    ]);
    assert.equal(r.out, "hello /a", r.err);
    assert.deepEqual(seen, [`domain localhost:${originPort}`]);
  });
});

test("curl --socks5 sends an IPv4 address", async () => {
  await withServers({ credentials: null }, async (socksPort, originPort, seen) => {
    const r = await curl([
      "--socks5",
      `127.0.0.1:${socksPort}`,
      `http://127.0.0.1:${originPort}/b`,
    ]);
    assert.equal(r.out, "hello /b", r.err);
    assert.deepEqual(seen, [`ipv4 127.0.0.1:${originPort}`]);
  });
});

test("curl with --proxy-user passes RFC 1929 authentication; a wrong password is refused", async () => {
  const credentials = { username: "alice", password: "s3cret" };
  await withServers({ credentials }, async (socksPort, originPort, seen) => {
    const ok = await curl([
      "--socks5-hostname",
      `127.0.0.1:${socksPort}`,
      "--proxy-user",
      "alice:s3cret",
      `http://localhost:${originPort}/c`,
    ]);
    assert.equal(ok.out, "hello /c", ok.err);
    const bad = await curl([
      "--socks5-hostname",
      `127.0.0.1:${socksPort}`,
      "--proxy-user",
      "alice:wrong",
      `http://localhost:${originPort}/c`,
    ]);
    assert.notEqual(bad.code, 0);
    assert.match(bad.err, /authentication|auth|SOCKS5/i);
    assert.deepEqual(seen, [`domain localhost:${originPort}`, "error: wrong username or password"]);
  });
});

test("a refused target gives curl the 'connection refused' reply (REP 5)", async () => {
  await withServers({ credentials: null }, async (socksPort) => {
    const r = await curl(["--socks5", `127.0.0.1:${socksPort}`, "http://127.0.0.1:1/"]);
    assert.notEqual(r.code, 0);
    // curl 7.88 prints the reply code: "(5)" is connection refused
    assert.match(r.err, /\(5\)|refused/i);
  });
});
