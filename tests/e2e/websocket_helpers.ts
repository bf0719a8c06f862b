/**
 * WebSocket end-to-end helpers: a real origin (the npm `ws` server on node:http or node:https),
 * a raw test client that speaks through the proxy the way a proxied client does (absolute-form
 * for ws://, CONNECT and TLS for wss://) with exact control over frames, and the proxy in-process
 * with addons that see every flow.
 */
import { readFileSync } from "node:fs";
import http from "node:http";
import https from "node:https";
import type net from "node:net";
import tls from "node:tls";
import zlib from "node:zlib";
import { type WebSocket, WebSocketServer } from "ws";
import { createLogger, type ProxyServer, startProxy } from "../../mod.ts";
import type { Addon } from "../../src/addons/types.ts";
import type { Flow } from "../../src/flow/flow.ts";
import type { Options } from "../../src/options.ts";
import {
  acceptKey,
  closePayload,
  encodeFrame,
  FrameParser,
  generateKey,
  MessageAssembler,
  Opcode,
  type OpcodeValue,
  randomMask,
} from "../../src/websocket/mod.ts";
import { testCa } from "../fixtures/ca.ts";
import { connect } from "./helpers.ts";
import { connectThrough, eventually, type OriginCert } from "./https_helpers.ts";

export interface WsOrigin {
  port: number;
  /** Messages the origin received, in order. */
  received: { binary: boolean; data: Buffer }[];
  /** Ping payloads the origin received. */
  pings: string[];
  /** How each connection closed, as the origin saw it. */
  closes: { code: number; reason: string }[];
  /** Request headers of each handshake. */
  handshakes: http.IncomingHttpHeaders[];
  close(): Promise<void>;
}

/** Deterministic bytes, so both ends can check a large message byte for byte. */
export function pattern(n: number): Uint8Array {
  return Uint8Array.from({ length: n }, (_, i) => (i * 31 + (i >> 8)) & 0xff);
}

/**
 * A `ws` origin on 127.0.0.1 (TLS when `cert` is given). It echoes text as "echo: TEXT" and binary
 * as it is, and obeys a few commands: "cmd:fragments" (one message in three frames), "cmd:ping",
 * "cmd:big" (200 KiB binary), "cmd:close" (closes with 4002 "origin says bye"), "cmd:say N"
 * (N messages "hello 0".."hello N-1").
 */
export async function wsOrigin(
  options: { cert?: OriginCert; deflate?: boolean } = {},
): Promise<WsOrigin> {
  const server = options.cert
    ? https.createServer({ cert: options.cert.certPem, key: options.cert.keyPem })
    : http.createServer();
  const wss = new WebSocketServer({
    server,
    perMessageDeflate: options.deflate ? { threshold: 0 } : false,
  });
  const origin: Omit<WsOrigin, "port" | "close"> = {
    received: [],
    pings: [],
    closes: [],
    handshakes: [],
  };
  const clients = new Set<WebSocket>();
  wss.on("connection", (ws, req) => {
    clients.add(ws);
    origin.handshakes.push(req.headers);
    ws.on("ping", (d) => origin.pings.push(String(d)));
    ws.on("close", (code, reason) => {
      clients.delete(ws);
      origin.closes.push({ code, reason: String(reason) });
    });
    ws.on("error", () => {});
    ws.on("message", (data, binary) => {
      const bytes = Buffer.isBuffer(data) ? data : Buffer.from(data as ArrayBuffer);
      origin.received.push({ binary, data: bytes });
      if (binary) return ws.send(bytes, { binary: true });
      const text = String(bytes);
      if (text === "cmd:fragments") {
        ws.send("frag-", { fin: false });
        ws.send("ment-", { fin: false });
        ws.send("ed", { fin: true });
      } else if (text === "cmd:ping") ws.ping("from the origin");
      else if (text === "cmd:big") ws.send(pattern(200 * 1024), { binary: true });
      else if (text === "cmd:close") ws.close(4002, "origin says bye");
      else if (text.startsWith("cmd:say ")) {
        for (let i = 0; i < Number(text.slice(8)); i++) ws.send(`hello ${i}`);
      } else ws.send(`echo: ${text}`);
    });
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  return {
    ...origin,
    port: (server.address() as net.AddressInfo).port,
    close: () =>
      new Promise<void>((r) => {
        for (const c of clients) c.terminate();
        wss.close();
        server.closeAllConnections?.();
        server.close(() => r());
      }),
  };
}

export interface ClientMessage {
  opcode: OpcodeValue;
  payload: Uint8Array;
  /** It arrived compressed (RSV1). */
  compressed: boolean;
  /** How many frames it came in. */
  frames: number;
  readonly text: string;
}

/**
 * A WebSocket client over a raw socket through the proxy, framing with the project's codec (the
 * origin is the independent `ws` implementation, so a framing mistake shows up there).
 */
export class RawWsClient {
  readonly socket: net.Socket;
  /** The status line and headers of the handshake answer. */
  readonly head: string;
  readonly #assembler: MessageAssembler;
  readonly #parser: FrameParser;
  readonly #messages: ClientMessage[] = [];
  #wake: (() => void) | null = null;
  #ended = false;
  /** Resolves when the proxy closed the connection. */
  readonly ended: Promise<void>;

  private constructor(socket: net.Socket, head: string, rest: Buffer, deflate: boolean) {
    this.socket = socket;
    this.head = head;
    this.#parser = new FrameParser({ masked: false, allowRsv1: deflate });
    this.#assembler = new MessageAssembler({ deflate });
    this.ended = new Promise((resolve) => {
      const done = () => {
        this.#ended = true;
        this.#wake?.();
        resolve();
      };
      socket.once("end", done);
      socket.once("close", done);
    });
    if (rest.length > 0) this.#feed(rest);
    socket.on("data", (d: Buffer) => this.#feed(d));
    socket.resume();
  }

  /**
   * Opens a WebSocket to the origin through the proxy: ws:// in absolute-form, or wss:// through
   * a CONNECT tunnel and TLS (trusting `caPem`). `extensions` is sent as Sec-WebSocket-Extensions.
   */
  static async open(options: {
    proxyPort: number;
    originPort: number;
    tls?: { caPem: string };
    path?: string;
    extensions?: string;
    extraHeaders?: string;
    /** Talk to a reverse-mode listener: origin-form on a direct connection. */
    reverse?: boolean;
  }): Promise<RawWsClient> {
    const authority = `${options.tls ? "localhost" : "127.0.0.1"}:${options.originPort}`;
    const path = options.path ?? "/chat";
    let socket: net.Socket;
    let target: string;
    if (options.tls) {
      const raw = await connectThrough(options.proxyPort, authority);
      socket = tls.connect({ socket: raw, servername: "localhost", ca: options.tls.caPem });
      await new Promise<void>((resolve, reject) => {
        socket.once("secureConnect", () => resolve());
        socket.once("error", reject);
      });
      target = path;
    } else {
      socket = await connect(options.proxyPort);
      target = options.reverse ? path : `http://${authority}${path}`;
    }
    socket.on("error", () => {});
    const key = generateKey();
    socket.write(
      `GET ${target} HTTP/1.1\r\nHost: ${authority}\r\nUpgrade: websocket\r\n` +
        `Connection: Upgrade\r\nSec-WebSocket-Key: ${key}\r\nSec-WebSocket-Version: 13\r\n` +
        (options.extensions ? `Sec-WebSocket-Extensions: ${options.extensions}\r\n` : "") +
        (options.extraHeaders ?? "") + "\r\n",
    );
    const { head, rest } = await readHead(socket);
    if (!/^HTTP\/1\.1 101 /.test(head)) throw new Error(`handshake answered: ${head}`);
    const accept = /\r\nsec-websocket-accept: *([^\r]+)/i.exec(head)?.[1];
    if (accept !== await acceptKey(key)) throw new Error(`bad Sec-WebSocket-Accept in ${head}`);
    const deflate = /\r\nsec-websocket-extensions: *permessage-deflate/i.test(head);
    return new RawWsClient(socket, head, rest, deflate);
  }

  #feed(chunk: Uint8Array): void {
    for (const frame of this.#parser.push(new Uint8Array(chunk))) {
      const done = this.#assembler.push(frame);
      if (done === null) continue;
      const payload = done.payload;
      this.#messages.push({
        opcode: done.opcode,
        payload,
        compressed: done.compressed,
        frames: done.frames.length,
        get text() {
          return new TextDecoder().decode(payload);
        },
      });
    }
    this.#wake?.();
  }

  /** The next message from the proxy; rejects after `timeoutMs` or when the connection ended. */
  async next(timeoutMs = 10_000): Promise<ClientMessage> {
    const end = Date.now() + timeoutMs;
    while (this.#messages.length === 0) {
      if (this.#ended) throw new Error("connection ended before a message arrived");
      const left = end - Date.now();
      if (left <= 0) throw new Error(`no message within ${timeoutMs} ms`);
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, left);
        this.#wake = () => {
          clearTimeout(timer);
          resolve();
        };
      });
      this.#wake = null;
    }
    return this.#messages.shift()!;
  }

  /** Sends one frame, masked (as a client must) unless `masked` is false. */
  frame(
    opcode: OpcodeValue,
    payload: Uint8Array | string,
    options: { fin?: boolean; rsv1?: boolean; masked?: boolean } = {},
  ): void {
    const bytes = typeof payload === "string" ? new TextEncoder().encode(payload) : payload;
    this.socket.write(encodeFrame({
      opcode,
      payload: bytes,
      fin: options.fin,
      rsv1: options.rsv1,
      mask: options.masked === false ? null : randomMask(),
    }));
  }

  text(s: string): void {
    this.frame(Opcode.Text, s);
  }

  binary(b: Uint8Array): void {
    this.frame(Opcode.Binary, b);
  }

  /** One text message in several frames. */
  fragments(parts: string[]): void {
    parts.forEach((p, i) =>
      this.frame(i === 0 ? Opcode.Text : Opcode.Continuation, p, { fin: i === parts.length - 1 })
    );
  }

  /** A text message compressed with permessage-deflate (its own deflate stream each time). */
  compressedText(s: string): void {
    const deflated = zlib.deflateRawSync(Buffer.from(s), {
      finishFlush: zlib.constants.Z_SYNC_FLUSH,
    });
    // RFC 7692 7.2.1: the trailing 00 00 ff ff of the flush is left off.
    this.frame(Opcode.Text, new Uint8Array(deflated.subarray(0, deflated.length - 4)), {
      rsv1: true,
    });
  }

  close(code: number, reason: string): void {
    this.frame(Opcode.Close, closePayload(code, reason));
  }

  /** Waits for the proxy to close the connection, then closes it too (as clients do). */
  async closed(): Promise<void> {
    await this.ended;
    this.socket.end();
  }

  destroy(): void {
    this.socket.destroy();
  }
}

/** Reads a response head; returns it and the bytes that came after it. */
function readHead(socket: net.Socket): Promise<{ head: string; rest: Buffer }> {
  return new Promise((resolve, reject) => {
    let buf = Buffer.alloc(0);
    const timer = setTimeout(() => finish(new Error("no handshake answer within 10 s")), 10_000);
    const finish = (error?: Error) => {
      clearTimeout(timer);
      socket.off("data", onData);
      socket.off("end", onEnd);
      if (error) return reject(error);
      const i = buf.indexOf("\r\n\r\n");
      resolve({ head: buf.subarray(0, i + 4).toString("latin1"), rest: buf.subarray(i + 4) });
    };
    const onData = (d: Buffer) => {
      buf = Buffer.concat([buf, d]);
      if (buf.includes("\r\n\r\n")) {
        // Hold later bytes until the client listens (its constructor resumes the socket).
        socket.pause();
        finish();
      }
    };
    const onEnd = () => finish(new Error(`closed during the handshake: ${buf.toString("latin1")}`));
    socket.on("data", onData);
    socket.on("end", onEnd);
  });
}

/** What the in-process proxy's addons saw. */
export interface Seen {
  /** Flows handed to flow_done. */
  done: Flow[];
  /** Hook names in the order they ran (websocket_* and flow_done). */
  hooks: string[];
}

/** The proxy in-process (shared test CA) with `addons` and a recorder of what hooks saw. */
export async function withWsProxy(
  options: Partial<Options>,
  addons: Addon[],
  fn: (proxy: ProxyServer, seen: Seen) => Promise<void>,
): Promise<void> {
  const seen: Seen = { done: [], hooks: [] };
  const recorder: Addon = {
    websocket_start: () => void seen.hooks.push("websocket_start"),
    websocket_message: () => void seen.hooks.push("websocket_message"),
    websocket_end: () => void seen.hooks.push("websocket_end"),
    flow_done(flow) {
      seen.hooks.push("flow_done");
      seen.done.push(flow);
    },
  };
  const proxy = await startProxy(
    { listen_port: 0, ...options },
    { ca: await testCa(), addons: [...addons, recorder], log: createLogger("error", () => {}) },
  );
  try {
    await fn(proxy, seen);
  } finally {
    await proxy.close();
  }
}

/** The first flow with a WebSocket, once flow_done has seen it. */
export async function doneWebSocketFlow(seen: Seen, ms = 10_000): Promise<Flow> {
  const ok = await eventually(() => seen.done.some((f) => f.websocket !== null), ms);
  if (!ok) throw new Error(`no WebSocket flow finished within ${ms} ms (hooks: ${seen.hooks})`);
  return seen.done.find((f) => f.websocket !== null)!;
}

/** The shared test CA's certificate, PEM: what clients through the proxy trust. */
export async function testCaPem(): Promise<string> {
  return readFileSync((await testCa()).certPemFile, "utf8");
}

export const utf8 = (b: Uint8Array): string => new TextDecoder().decode(b);
