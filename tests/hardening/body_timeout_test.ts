/**
 * body_timeout: a body that stops arriving, in either direction, through the real proxy on
 * 127.0.0.1 with raw clients and raw origins. A stalled upload gets 408 when nothing was answered
 * yet, else both connections close; a stalled download closes both; the flow says which side
 * stalled. The option is set to 1 s; waits are generous and nothing asserts timings.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import type net from "node:net";
import type { Flow } from "../../src/flow/flow.ts";
import type { ProxyServer } from "../../mod.ts";
import {
  completeResponse,
  connect,
  eventually,
  exchange,
  rawServer,
  readUntil,
  recordingOrigin,
  withRealProxy,
} from "./helpers.ts";

const post = (port: number, extra: string) =>
  `POST http://127.0.0.1:${port}/up HTTP/1.1\r\nHost: x\r\n${extra}\r\n`;

function closedByProxy(s: net.Socket): boolean {
  return s.readableEnded || s.destroyed;
}

/** Runs `fn` with a proxy whose body_timeout is 1 s, collecting the flows' error messages. */
function withBodyTimeout(
  fn: (proxy: ProxyServer, errors: string[]) => Promise<void>,
  withResponseHook = false,
): Promise<void> {
  const errors: string[] = [];
  const addon: Record<string, unknown> = {
    flow_done: (f: Flow) => void errors.push(f.error?.message ?? "(no error)"),
  };
  if (withResponseHook) addon.response = () => {};
  return withRealProxy(
    { body_timeout: 1 },
    (proxy) => fn(proxy, errors),
    { addons: [addon] },
  );
}

for (
  const [name, extra, partial] of [
    ["Content-Length", "Content-Length: 10\r\n", "abc"],
    ["chunked", "Transfer-Encoding: chunked\r\n", "3\r\nabc\r\n"],
    ["a chunk line cut short", "Transfer-Encoding: chunked\r\n", "3;a=b"],
  ] as const
) {
  test(`body_timeout: a stalled upload (${name}) gets 408 and the origin connection closes`, async () => {
    const origin = await recordingOrigin();
    try {
      await withBodyTimeout(async (proxy, errors) => {
        const { text, closed } = await exchange(
          proxy.address.port,
          post(origin.port, extra) + partial,
        );
        assert.match(text, /^HTTP\/1\.1 408 Request Timeout\r\n/, JSON.stringify(text));
        assert.match(text, /\r\nConnection: close\r\n/);
        const why = "the client stopped sending the request body for 1 s (body_timeout)";
        assert.ok(
          text.endsWith(`\r\n\r\nmitm.ts: ${why}; closing the connection.\n`),
          JSON.stringify(text),
        );
        assert.ok(closed, "the client connection is closed");
        assert.ok(await eventually(() => origin.connections.every((c) => c.ended)));
        assert.ok(await eventually(() => errors.length === 1));
        assert.deepEqual(errors, [why]);
      });
    } finally {
      await origin.close();
    }
  });
}

test("body_timeout: a stalled upload held for a request hook gets 408", async () => {
  const origin = await recordingOrigin();
  const errors: string[] = [];
  try {
    await withRealProxy({ body_timeout: 1 }, async (proxy) => {
      const { text, closed } = await exchange(
        proxy.address.port,
        post(origin.port, "Content-Length: 10\r\n") + "abc",
      );
      assert.match(text, /^HTTP\/1\.1 408 Request Timeout\r\n/, JSON.stringify(text));
      assert.match(text, /the client stopped sending the request body for 1 s \(body_timeout\)/);
      assert.ok(closed);
      assert.equal(origin.connections.length, 0, "nothing reached the origin");
      assert.ok(await eventually(() => errors.length === 1));
      assert.match(errors[0], /^the client stopped sending the request body/);
    }, {
      addons: [{
        request: () => {},
        flow_done: (f: Flow) => void errors.push(f.error?.message ?? "(no error)"),
      }],
    });
  } finally {
    await origin.close();
  }
});

test("body_timeout: an upload that stalls after the response began closes both connections", async () => {
  // The origin answers at once and keeps the response body coming slowly, so only the upload
  // stalls.
  const timers: ReturnType<typeof setInterval>[] = [];
  const origin = await rawServer((s: net.Socket) => {
    s.once("data", () => {
      s.write("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n");
      timers.push(setInterval(() => s.write("1\r\nx\r\n"), 200));
    });
  });
  try {
    await withBodyTimeout(async (proxy, errors) => {
      const client = await connect(proxy.address.port);
      let closed = false;
      client.on("close", () => (closed = true));
      client.on("end", () => (closed = true));
      try {
        client.write(post(origin.port, "Content-Length: 10\r\n") + "abc");
        const got = await readUntil(client, () => false, 20_000);
        assert.match(got.toString("latin1"), /^HTTP\/1\.1 200 OK\r\n/);
        assert.ok(closed, "the client connection is closed");
      } finally {
        client.destroy();
      }
      assert.ok(await eventually(() => origin.sockets.every(closedByProxy)));
      assert.ok(await eventually(() => errors.length === 1));
      assert.match(errors[0], /the client stopped sending the request body for 1 s/);
    });
  } finally {
    for (const t of timers) clearInterval(t);
    await origin.close();
  }
});

for (
  const [name, head, partial] of [
    ["Content-Length", "Content-Length: 10", "abc"],
    ["chunked", "Transfer-Encoding: chunked", "3\r\nabc\r\n"],
    ["close-delimited", "Transfer-Encoding: x-custom", "abc"],
  ] as const
) {
  test(`body_timeout: a stalled download (${name}) closes both connections`, async () => {
    const origin = await rawServer((s: net.Socket) => {
      s.once("data", () => s.write(`HTTP/1.1 200 OK\r\n${head}\r\n\r\n${partial}`));
    });
    try {
      await withBodyTimeout(async (proxy, errors) => {
        const client = await connect(proxy.address.port);
        let closed = false;
        client.on("close", () => (closed = true));
        client.on("end", () => (closed = true));
        try {
          client.write(`GET http://127.0.0.1:${origin.port}/ HTTP/1.1\r\nHost: x\r\n\r\n`);
          const got = await readUntil(client, () => false, 20_000);
          const text = got.toString("latin1");
          // The head went out with the first bytes; all the proxy can do then is close.
          assert.match(text, /^HTTP\/1\.1 200 OK\r\n/, JSON.stringify(text));
          assert.ok(text.includes("abc"));
          assert.ok(closed, "the client connection is closed");
        } finally {
          client.destroy();
        }
        assert.ok(await eventually(() => origin.sockets.every(closedByProxy)));
        assert.ok(await eventually(() => errors.length === 1));
        assert.equal(
          errors[0],
          `response body failed: 127.0.0.1:${origin.port} stopped sending the response body ` +
            "for 1 s (body_timeout)",
        );
      });
    } finally {
      await origin.close();
    }
  });
}

test("body_timeout: a stalled download held for a response hook gets 502, both closed", async () => {
  const origin = await rawServer((s: net.Socket) => {
    s.once("data", () => s.write("HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nabc"));
  });
  try {
    await withBodyTimeout(async (proxy, errors) => {
      const { text, closed } = await exchange(
        proxy.address.port,
        `GET http://127.0.0.1:${origin.port}/ HTTP/1.1\r\nHost: x\r\n\r\n`,
      );
      assert.match(text, /^HTTP\/1\.1 502 Bad Gateway\r\n/, JSON.stringify(text));
      assert.match(text, /stopped sending the response body for 1 s \(body_timeout\)/);
      assert.ok(closed);
      assert.ok(completeResponse(text));
      assert.ok(await eventually(() => origin.sockets.every(closedByProxy)));
      assert.ok(await eventually(() => errors.length === 1));
      assert.match(errors[0], /stopped sending the response body for 1 s/);
    }, true);
  } finally {
    await origin.close();
  }
});

test("body_timeout: bodies that keep arriving, however slowly, are never cut", async () => {
  const origin = await recordingOrigin();
  try {
    await withBodyTimeout(async (proxy, errors) => {
      const client = await connect(proxy.address.port);
      try {
        client.write(post(origin.port, "Content-Length: 6\r\n"));
        // Six bytes over more than the timeout: each gap is well under it.
        for (const byte of "abcdef") {
          await new Promise((r) => setTimeout(r, 300));
          client.write(byte);
        }
        const got = await readUntil(client, (b) => b.toString("latin1").endsWith("\r\n\r\nok"));
        assert.match(got.toString("latin1"), /^HTTP\/1\.1 200 OK\r\n/);
      } finally {
        client.destroy();
      }
      assert.ok(origin.all().endsWith("\r\n\r\nabcdef"));
      assert.ok(await eventually(() => errors.length === 1));
      assert.deepEqual(errors, ["(no error)"]);
    });
  } finally {
    await origin.close();
  }
});
