// WebSockets over HTTP/2 (RFC 8441) through the new core on real sockets: node:http2 clients
// send extended CONNECT once the proxy's SETTINGS allow it; the origin is a `ws` HTTP/1.1
// server (the handshake is translated to Upgrade and back) or a node:http2 origin that takes
// extended CONNECT itself. Messages are recorded on the flow and a websocket_message hook
// changes one.
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import http2 from "node:http2";
import net from "node:net";
import tls from "node:tls";
import { AddonManager } from "../../src/addons/manager.ts";
import type { Flow } from "../../src/flow/flow.ts";
import { silentLogger } from "../../src/log.ts";
import { RegularMode } from "../../src/proxy/layers/modes.ts";
import {
  encodeFrame,
  type Frame,
  FrameParser,
  Opcode,
  randomMask,
} from "../../src/websocket/mod.ts";
import { type WsOrigin, wsOrigin } from "../e2e/websocket_helpers.ts";
import { h2WebSocketOrigin, layeredProxy } from "./h2_driver_helpers.ts";

const enc = new TextEncoder();
const dec = new TextDecoder();

let h1Ws: WsOrigin;
let h2Ws: { port: number; paths: string[]; close(): Promise<void> };

before(async () => {
  h1Ws = await wsOrigin();
  h2Ws = await h2WebSocketOrigin();
});

after(async () => {
  await h1Ws.close();
  await h2Ws.close();
});

/** A WebSocket over one HTTP/2 stream of node:http2, frames by src/websocket. */
class H2WebSocket {
  readonly frames: Frame[] = [];
  readonly #parser = new FrameParser({ masked: false });
  #waiters: (() => void)[] = [];
  ended = false;
  constructor(readonly stream: http2.ClientHttp2Stream, readonly status: number) {
    stream.on("data", (c: Buffer) => {
      this.frames.push(...this.#parser.push(new Uint8Array(c)));
      this.#wake();
    });
    stream.on("end", () => {
      this.ended = true;
      this.#wake();
    });
    stream.on("error", () => {
      this.ended = true;
      this.#wake();
    });
  }
  #wake() {
    for (const w of this.#waiters.splice(0)) w();
  }
  send(opcode: number, payload: string | Uint8Array) {
    const bytes = typeof payload === "string" ? enc.encode(payload) : payload;
    this.stream.write(encodeFrame({ opcode: opcode as 1, payload: bytes, mask: randomMask() }));
  }
  /** Waits for `n` frames in all (or the end), with a generous limit. */
  async waitFrames(n: number): Promise<Frame[]> {
    const deadline = Date.now() + 20_000;
    while (this.frames.length < n && !this.ended && Date.now() < deadline) {
      await new Promise<void>((r) => {
        this.#waiters.push(r);
        setTimeout(r, 500);
      });
    }
    return this.frames;
  }
  async waitEnd(): Promise<void> {
    const deadline = Date.now() + 20_000;
    while (!this.ended && Date.now() < deadline) {
      await new Promise<void>((r) => {
        this.#waiters.push(r);
        setTimeout(r, 500);
      });
    }
  }
}

/**
 * Opens an h2c session to the proxy (or h2 over `tunnel`, a TLS connection through a CONNECT
 * tunnel) and an RFC 8441 WebSocket to `authority` + `path`.
 */
async function openH2WebSocket(
  proxyPort: number,
  authority: string,
  path: string,
  scheme = "http",
  tunnel?: tls.TLSSocket,
) {
  const session = tunnel
    ? http2.connect(`https://${authority}`, { createConnection: () => tunnel })
    : http2.connect(`http://127.0.0.1:${proxyPort}`);
  session.on("error", () => {});
  // node:http2 refuses :protocol until the peer's SETTINGS allowed it.
  const settings = await new Promise<http2.Settings>((r) => session.once("remoteSettings", r));
  const stream = session.request({
    ":method": "CONNECT",
    ":protocol": "websocket",
    ":scheme": scheme,
    ":authority": authority,
    ":path": path,
    "sec-websocket-version": "13",
  }, { endStream: false });
  const status = await new Promise<number>((resolve, reject) => {
    stream.once("response", (h) => resolve(Number(h[":status"])));
    stream.once("error", reject);
  });
  return { session, settings, ws: new H2WebSocket(stream, status) };
}

/** Waits (within the test runner's 5 s) until a WebSocket flow is among `done`. */
async function webSocketFlowDone(done: Flow[]): Promise<void> {
  const deadline = Date.now() + 4_000;
  while (!done.some((f) => f.websocket !== null) && Date.now() < deadline) {
    await new Promise((r) => setTimeout(r, 20));
  }
}

/** websocket_message: the client's "change me" becomes "changed"; every flow is kept. */
async function addons(flows: Flow[]): Promise<AddonManager> {
  const manager = new AddonManager(silentLogger);
  await manager.add({
    name: "h2ws",
    websocket_message(flow: Flow) {
      const m = flow.websocket!.messages.at(-1)!;
      if (m.fromClient && m.text === "change me") m.text = "changed";
    },
    flow_done(flow: Flow) {
      flows.push(flow);
    },
  });
  return manager;
}

async function proxyWithHooks(mode: Parameters<typeof layeredProxy>[0]) {
  const done: Flow[] = [];
  const manager = await addons(done);
  return layeredProxy(mode, {}, {
    addons: manager,
    hook(name, data) {
      if (!manager.has(name as never)) return;
      return manager.trigger(name as never, data as never);
    },
  }).then((p) => ({ ...p, done }));
}

describe("WebSockets over HTTP/2 (RFC 8441)", () => {
  test("node:http2 extended CONNECT to an HTTP/1.1 ws origin: translated, messages recorded and changed", async () => {
    const p = await proxyWithHooks((ctx) => new RegularMode(ctx));
    const { session, settings, ws } = await openH2WebSocket(
      p.port,
      `127.0.0.1:${h1Ws.port}`,
      "/chat",
    );
    try {
      assert.equal(settings.enableConnectProtocol, true, "the proxy announces RFC 8441");
      assert.equal(ws.status, 200);
      ws.send(Opcode.Text, "hello");
      ws.send(Opcode.Text, "change me");
      ws.send(Opcode.Binary, new Uint8Array([1, 2, 3]));
      const frames = await ws.waitFrames(3);
      assert.deepEqual(frames.slice(0, 3).map((f) => dec.decode(f.payload)), [
        "echo: hello",
        "echo: changed",
        "\x01\x02\x03",
      ]);
      ws.send(Opcode.Close, new Uint8Array([0x03, 0xe8])); // 1000
      await ws.waitFrames(4);
      assert.equal(ws.frames[3]?.opcode, Opcode.Close);
      ws.stream.end();
      await ws.waitEnd();
    } finally {
      session.close();
      await p.close();
    }
    assert.equal(h1Ws.handshakes.at(-1)?.upgrade, "websocket");
    const flow = p.done.find((f) => f.websocket !== null)!;
    assert.ok(flow, "a WebSocket flow");
    assert.equal(flow.request.httpVersion, "HTTP/2.0");
    assert.equal(flow.request.path, "/chat");
    assert.equal(flow.response?.status, 101);
    const messages = (fromClient: boolean) =>
      flow.websocket!.messages.filter((m) => m.fromClient === fromClient).map((m) =>
        `${m.type} ${m.type === "text" ? m.text : m.content.length}`
      );
    assert.deepEqual(messages(true), ["text hello", "text changed", "binary 3", "close 2"]);
    assert.deepEqual(messages(false), [
      "text echo: hello",
      "text echo: changed",
      "binary 3",
      "close 2",
    ]);
    assert.equal(flow.websocket!.closeCode, 1000);
    assert.equal(flow.websocket!.closedByClient, true);
    assert.notEqual(flow.websocket!.timestampEnd, null);
  });

  test("to an h2 origin (TLS, ALPN h2) with SETTINGS_ENABLE_CONNECT_PROTOCOL: extended CONNECT there too", async () => {
    const p = await proxyWithHooks((ctx) => new RegularMode(ctx));
    const { session, ws } = await openH2WebSocket(
      p.port,
      `127.0.0.1:${h2Ws.port}`,
      "/h2chat",
      "https",
    );
    try {
      assert.equal(ws.status, 200);
      ws.send(Opcode.Text, "change me");
      ws.send(Opcode.Text, "two");
      const frames = await ws.waitFrames(2);
      assert.deepEqual(frames.slice(0, 2).map((f) => dec.decode(f.payload)), [
        "h2 echo: changed",
        "h2 echo: two",
      ]);
      ws.send(Opcode.Close, new Uint8Array([0x0f, 0xa0])); // 4000
      await ws.waitFrames(3);
      assert.equal(ws.frames[2]?.opcode, Opcode.Close);
      ws.stream.end();
      await ws.waitEnd();
    } finally {
      session.close();
      await p.close();
    }
    assert.deepEqual(h2Ws.paths.at(-1), "/h2chat");
    const flow = p.done.find((f) => f.websocket !== null)!;
    assert.ok(flow, "a WebSocket flow");
    assert.equal(flow.server?.tls?.alpn, "h2");
    assert.equal(flow.response?.httpVersion, "HTTP/2.0");
    const texts = (fromClient: boolean) =>
      flow.websocket!.messages.filter((m) => m.fromClient === fromClient).map((m) =>
        m.type === "text" ? m.text : m.type
      );
    assert.deepEqual(texts(true), ["changed", "two", "close"]);
    assert.deepEqual(texts(false), ["h2 echo: changed", "h2 echo: two", "close"]);
    assert.equal(flow.websocket!.closeCode, 4000);
  });

  for (const origin of ["HTTP/1.1", "h2"]) {
    test(`the client's connection dropped with a WebSocket open (${origin} origin): the flow ends with the error`, async () => {
      const p = await proxyWithHooks((ctx) => new RegularMode(ctx));
      const { session, ws } = origin === "h2"
        ? await openH2WebSocket(p.port, `127.0.0.1:${h2Ws.port}`, "/dropped", "https")
        : await openH2WebSocket(p.port, `127.0.0.1:${h1Ws.port}`, "/dropped");
      try {
        ws.send(Opcode.Text, "hello");
        await ws.waitFrames(1);
        session.destroy(); // the TCP connection closes, no GOAWAY, no RST_STREAM
        await webSocketFlowDone(p.done);
      } finally {
        await p.close();
      }
      const flow = p.done.find((f) => f.websocket !== null);
      assert.ok(flow, "the WebSocket flow is done");
      assert.equal(flow.websocket!.closeCode, 1006);
      assert.match(flow.error?.message ?? "", /client/);
      assert.notEqual(flow.websocket!.timestampEnd, null);
    });
  }

  test("in a CONNECT tunnel (TLS, h2 inside), closed by both sides, then the client hangs up: the flow is done", async () => {
    // As Chromium does: its side of the stream stays open after the closing handshake.
    const p = await proxyWithHooks((ctx) => new RegularMode(ctx));
    const raw = net.connect(p.port, "127.0.0.1");
    await new Promise<void>((r) => raw.once("connect", () => r()));
    raw.write(`CONNECT 127.0.0.1:${h2Ws.port} HTTP/1.1\r\nHost: 127.0.0.1:${h2Ws.port}\r\n\r\n`);
    await new Promise<void>((r) => raw.once("data", () => r()));
    const secure = tls.connect({ socket: raw, ALPNProtocols: ["h2"], rejectUnauthorized: false });
    await new Promise<void>((r) => secure.once("secureConnect", () => r()));
    const { session, ws } = await openH2WebSocket(
      p.port,
      `127.0.0.1:${h2Ws.port}`,
      "/tunnelled",
      "https",
      secure,
    );
    try {
      assert.equal(ws.status, 200);
      ws.send(Opcode.Text, "hello");
      await ws.waitFrames(1);
      ws.send(Opcode.Close, new Uint8Array([0x03, 0xe8])); // 1000, and the stream stays open
      await ws.waitEnd(); // the origin's close, then the end of its side
      assert.equal(ws.frames.at(-1)?.opcode, Opcode.Close);
      raw.destroy();
      await webSocketFlowDone(p.done);
    } finally {
      session.destroy();
      await p.close();
    }
    const flow = p.done.find((f) => f.websocket !== null);
    assert.ok(flow, "the WebSocket flow is done");
    assert.equal(flow.websocket!.closeCode, 1000);
    assert.equal(flow.websocket!.closedByClient, true);
    assert.equal(flow.error, null);
  });

  test("other streams of the connection go on while a WebSocket is open", async () => {
    const p = await proxyWithHooks((ctx) => new RegularMode(ctx));
    const { session, ws } = await openH2WebSocket(p.port, `127.0.0.1:${h1Ws.port}`, "/multi");
    try {
      ws.send(Opcode.Text, "first");
      await ws.waitFrames(1);
      // A plain GET on the same HTTP/2 connection (to the h2 origin, which answers it 400).
      const status = await new Promise<number>((resolve, reject) => {
        const req = session.request({
          ":method": "GET",
          ":scheme": "https",
          ":authority": `127.0.0.1:${h2Ws.port}`,
          ":path": "/plain",
        });
        req.on("response", (h) => resolve(Number(h[":status"])));
        req.on("error", reject);
        req.resume();
        req.end();
      });
      assert.equal(status, 400);
      ws.send(Opcode.Text, "second");
      const frames = await ws.waitFrames(2);
      assert.equal(dec.decode(frames[1].payload), "echo: second");
      ws.stream.close(http2.constants.NGHTTP2_CANCEL); // the client resets the WebSocket stream
      await ws.waitEnd();
    } finally {
      session.close();
      await p.close();
    }
    const flow = p.done.find((f) => f.websocket !== null)!;
    assert.equal(flow.websocket!.closeCode, 1006, "ended by the reset, without a close frame");
    assert.match(flow.error?.message ?? "", /client/);
  });
});
