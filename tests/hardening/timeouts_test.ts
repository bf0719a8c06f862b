/**
 * Timeouts against hostile peers, through the real proxy on 127.0.0.1: an origin that takes the
 * request and never answers (read_timeout), and a slow-loris attack of clients trickling request
 * heads byte by byte (header_timeout) while a normal client keeps being served.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import type net from "node:net";
import type { Flow } from "../../src/flow/flow.ts";
import {
  completeResponse,
  connect,
  eventually,
  exchange,
  OK_RESPONSE,
  rawServer,
  readUntil,
  recordingOrigin,
  sleep,
  withRealProxy,
} from "./helpers.ts";

const get = (port: number, path = "/") =>
  `GET http://127.0.0.1:${port}${path} HTTP/1.1\r\nHost: x\r\n\r\n`;

/** An origin that reads requests and answers only the first `answered` on each connection. */
async function stallingOrigin(answered: number) {
  let heads = 0;
  const server = await rawServer((s: net.Socket) => {
    let buf = "";
    let n = 0;
    s.on("data", (d: Buffer) => {
      buf += d.toString("latin1");
      for (let end = buf.indexOf("\r\n\r\n"); end >= 0; end = buf.indexOf("\r\n\r\n")) {
        buf = buf.slice(end + 4);
        heads++;
        if (n++ < answered) s.write(OK_RESPONSE);
      }
    });
  });
  return { ...server, heads: () => heads };
}

function closedByProxy(s: net.Socket): boolean {
  return s.readableEnded || s.destroyed;
}

test("read_timeout: an origin that never answers gets the client a 504, its connection closed", async () => {
  const origin = await stallingOrigin(0);
  const errors: string[] = [];
  try {
    await withRealProxy({ read_timeout: 0.3 }, async (proxy) => {
      const { text, closed } = await exchange(proxy.address.port, get(origin.port, "/never"));
      assert.match(text, /^HTTP\/1\.1 504 Gateway Timeout\r\n/, JSON.stringify(text));
      const reason = `127.0.0.1:${origin.port} sent no response within 0.3 s (read_timeout)`;
      assert.ok(text.endsWith(`\r\n\r\nmitm.ts: ${reason}.\n`), JSON.stringify(text));
      assert.match(text, /\r\nConnection: close\r\n/);
      assert.ok(closed, "the client connection is closed");
      assert.equal(origin.heads(), 1);
      assert.ok(
        await eventually(() => origin.sockets.every(closedByProxy)),
        "the origin connection is closed, not pooled",
      );
      assert.ok(await eventually(() => errors.length === 1));
      assert.deepEqual(errors, [reason]);
    }, { addons: [{ error: (f: Flow) => void errors.push(f.error!.message) }] });
  } finally {
    await origin.close();
  }
});

test("read_timeout: a pooled connection that goes silent gets 504 and is not retried", async () => {
  const origin = await stallingOrigin(1);
  try {
    await withRealProxy({ read_timeout: 0.3 }, async (proxy) => {
      const client = await connect(proxy.address.port);
      try {
        client.write(get(origin.port, "/first"));
        const first = await readUntil(client, (b) => b.toString("latin1").endsWith("\r\n\r\nok"));
        assert.match(first.toString("latin1"), /^HTTP\/1\.1 200 OK\r\n/);
        // The same client connection, so the pooled origin connection carries the second request.
        client.write(get(origin.port, "/second"));
        const second = await readUntil(client, (b) => completeResponse(b.toString("latin1")));
        assert.match(second.toString("latin1"), /^HTTP\/1\.1 504 Gateway Timeout\r\n/);
      } finally {
        client.destroy();
      }
      // A retry on a fresh connection would have sent the request a third time.
      assert.equal(origin.heads(), 2);
      assert.equal(origin.sockets.length, 1);
      assert.ok(await eventually(() => origin.sockets.every(closedByProxy)));
    });
  } finally {
    await origin.close();
  }
});

test("read_timeout counts from the end of the request: a slow upload is answered", async () => {
  const origin = await recordingOrigin(); // answers once the whole request has arrived
  try {
    await withRealProxy({ read_timeout: 0.2 }, async (proxy) => {
      const client = await connect(proxy.address.port);
      try {
        client.write(
          `POST http://127.0.0.1:${origin.port}/up HTTP/1.1\r\nHost: x\r\nContent-Length: 6\r\n\r\n`,
        );
        // Six bytes over more than three times read_timeout: only the wait after them counts.
        for (const byte of "abcdef") {
          await sleep(150);
          client.write(byte);
        }
        const got = await readUntil(client, (b) => b.toString("latin1").endsWith("\r\n\r\nok"));
        assert.match(got.toString("latin1"), /^HTTP\/1\.1 200 OK\r\n/);
      } finally {
        client.destroy();
      }
      assert.ok(origin.all().endsWith("\r\n\r\nabcdef"));
    });
  } finally {
    await origin.close();
  }
});

// ---- slow loris ----

interface Attacker {
  socket: net.Socket;
  received: string;
  closed: boolean;
}

/** A client that sends an endless request head one byte every `everyMs`, until it is cut off. */
async function slowLoris(proxyPort: number, originPort: number, everyMs: number) {
  const socket = await connect(proxyPort);
  const a: Attacker = { socket, received: "", closed: false };
  const head = `GET http://127.0.0.1:${originPort}/slow HTTP/1.1\r\nHost: x\r\nX-Slow: `;
  socket.on("data", (d: Buffer) => (a.received += d.toString("latin1")));
  socket.on("end", () => (a.closed = true));
  socket.on("close", () => (a.closed = true));
  socket.on("error", () => (a.closed = true));
  (async () => {
    for (let i = 0; !a.closed && a.received === ""; i++) {
      socket.write(i < head.length ? head[i] : "a");
      await sleep(everyMs);
    }
  })();
  return a;
}

test(
  "slow loris: clients trickling heads get 408 after header_timeout, others are served meanwhile",
  {
    timeout: 60_000,
  },
  async () => {
    const origin = await recordingOrigin();
    const N = 40;
    try {
      await withRealProxy({ header_timeout: 2, idle_timeout: 30 }, async (proxy) => {
        const port = proxy.address.port;
        const attackers = await Promise.all(
          Array.from({ length: N }, () => slowLoris(port, origin.port, 50)),
        );
        assert.ok(await eventually(() => proxy.connectionCount === N), "every attacker connected");

        // A normal client during the attack: keep-alive requests and new connections.
        const normal = await connect(port);
        let servedDuringAttack = 0;
        let served = 0;
        try {
          for (let i = 0; i < 10; i++) {
            let text: string;
            if (i % 2 === 0) {
              normal.write(get(origin.port, `/normal-${i}`));
              const got = await readUntil(normal, (b) => b.toString("latin1").endsWith("\r\nok"));
              text = got.toString("latin1");
            } else {
              text = (await exchange(port, get(origin.port, `/fresh-${i}`), completeResponse)).text;
            }
            assert.match(text, /^HTTP\/1\.1 200 OK\r\n/, `normal request ${i}`);
            served++;
            if (attackers.every((a) => !a.closed)) servedDuringAttack++;
          }
        } finally {
          normal.destroy();
        }
        assert.equal(served, 10);
        assert.ok(servedDuringAttack > 0, "the normal client was served while the attack went on");

        assert.ok(
          await eventually(() => attackers.every((a) => a.closed), 20_000),
          `attackers still connected: ${attackers.filter((a) => !a.closed).length}`,
        );
        for (const a of attackers) {
          assert.match(
            a.received,
            /^HTTP\/1\.1 408 Request Timeout\r\n/,
            JSON.stringify(a.received),
          );
          assert.ok(
            a.received.endsWith(
              "mitm.ts: request head not complete after 2 s; closing the connection.\n",
            ),
          );
          a.socket.destroy();
        }
        // No slow request reached the origin; every normal one did.
        assert.ok(!origin.all().includes("/slow"));
        assert.equal(origin.all().split("GET /").length - 1, 10);
        // And the proxy still serves after the attack.
        const after = await exchange(port, get(origin.port, "/after"), completeResponse);
        assert.match(after.text, /^HTTP\/1\.1 200 OK\r\n/);
        assert.ok(await eventually(() => proxy.connectionCount === 0));
      });
    } finally {
      await origin.close();
    }
  },
);
