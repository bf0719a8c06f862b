/**
 * body_size_limit through the real proxy: 413 for requests, 502 for responses, with a one-line
 * reason; bodies without a declared length are counted as they pass.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import {
  completeResponse,
  countRequests,
  eventually,
  exchange,
  recordingOrigin,
  withRealProxy,
} from "./helpers.ts";

const LIMIT = { body_size_limit: 1000 };

function post(port: number, framing: string, body: string): string {
  return `POST http://127.0.0.1:${port}/up HTTP/1.1\r\nHost: x\r\n${framing}\r\n\r\n${body}`;
}

function chunked(total: number): string {
  let out = "";
  for (let left = total; left > 0; left -= 300) {
    const n = Math.min(300, left);
    out += `${n.toString(16)}\r\n${"c".repeat(n)}\r\n`;
  }
  return out + "0\r\n\r\n";
}

test("body_size_limit: bodies up to the limit pass both ways", async () => {
  const origin = await recordingOrigin(() =>
    "HTTP/1.1 200 OK\r\nContent-Length: 1000\r\n\r\n" + "r".repeat(1000)
  );
  try {
    await withRealProxy(LIMIT, async (proxy) => {
      for (
        const request of [
          post(origin.port, "Content-Length: 1000", "a".repeat(1000)),
          post(origin.port, "Transfer-Encoding: chunked", chunked(1000)),
        ]
      ) {
        const { text } = await exchange(proxy.address.port, request, completeResponse);
        assert.match(text, /^HTTP\/1\.1 200 OK\r\n/);
        assert.ok(text.endsWith("r".repeat(1000)));
      }
    });
  } finally {
    await origin.close();
  }
});

test("body_size_limit: a declared request body over it gets 413 and reaches nobody", async () => {
  const origin = await recordingOrigin();
  try {
    await withRealProxy(LIMIT, async (proxy) => {
      const { text, closed } = await exchange(
        proxy.address.port,
        post(origin.port, "Content-Length: 1001", "a".repeat(1001)),
      );
      assert.match(text, /^HTTP\/1\.1 413 Content Too Large\r\n/);
      assert.match(text, /request body is larger than the proxy's limit of 1000 bytes/);
      assert.ok(closed);
      assert.equal(origin.all(), "");
    });
  } finally {
    await origin.close();
  }
});

test("body_size_limit: a chunked request is counted as it streams and refused with 413", async () => {
  const origin = await recordingOrigin();
  try {
    await withRealProxy(LIMIT, async (proxy) => {
      const { text, closed } = await exchange(
        proxy.address.port,
        post(origin.port, "Transfer-Encoding: chunked", chunked(5000)),
      );
      assert.match(text, /^HTTP\/1\.1 413 Content Too Large\r\n/);
      assert.match(text, /request body is larger than the proxy's limit of 1000 bytes/);
      assert.ok(closed);
      // What was streamed before the limit never forms a complete request at the origin.
      assert.ok(await eventually(() => origin.connections.every((c) => c.ended)));
      assert.equal(countRequests(origin.all()).complete, 0);
    });
  } finally {
    await origin.close();
  }
});

test("body_size_limit: a declared response body over it gets 502 with the reason", async () => {
  const origin = await recordingOrigin(() =>
    "HTTP/1.1 200 OK\r\nContent-Length: 1001\r\n\r\n" + "r".repeat(1001)
  );
  try {
    await withRealProxy(LIMIT, async (proxy) => {
      const get = `GET http://127.0.0.1:${origin.port}/ HTTP/1.1\r\nHost: x\r\n\r\n`;
      const { text } = await exchange(proxy.address.port, get, completeResponse);
      assert.match(text, /^HTTP\/1\.1 502 Bad Gateway\r\n/);
      assert.match(text, /response body is larger than the proxy's limit of 1000 bytes/);
    });
  } finally {
    await origin.close();
  }
});

test("body_size_limit: a chunked response over it gets 502 when none of it went out yet", async () => {
  const origin = await recordingOrigin(() =>
    "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n" + chunked(5000)
  );
  try {
    await withRealProxy(LIMIT, async (proxy) => {
      const get = `GET http://127.0.0.1:${origin.port}/ HTTP/1.1\r\nHost: x\r\n\r\n`;
      const { text, closed } = await exchange(proxy.address.port, get);
      assert.ok(closed);
      // The whole response arrives in one read, so the head was still held back: 502 with why.
      assert.match(text, /^HTTP\/1\.1 502 Bad Gateway\r\n/);
      assert.match(text, /response body is larger than the proxy's limit of 1000 bytes/);
      assert.ok(!text.includes("cccc"), "none of the body was passed on");
    });
  } finally {
    await origin.close();
  }
});
