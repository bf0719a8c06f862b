/**
 * Helpers for the proxy tests: a proxy on an in-memory network, scripted origins on the same
 * network, and a byte-level peer wrapper that reads raw bytes and whole HTTP messages from a
 * connection. Every read is bounded by a timeout so that a broken proxy fails a test instead of
 * hanging it.
 */
import assert from "node:assert/strict";
import { type ReadEvent, RequestReader, ResponseReader } from "../../src/http1/mod.ts";
import type { Options } from "../../src/options.ts";
import { MemoryNetwork } from "../fakes/memory_network.ts";
import type { Conn, Listener } from "../../src/runtime/types.ts";
import { type ProxyServer, startProxy } from "../../src/proxy/server.ts";
import { testCa } from "../fixtures/ca.ts";

/** How long any single wait may take before the test fails. */
export const WAIT_MS = 2000;

/** Bytes of a string, one byte per char. */
export function b(text: string): Uint8Array {
  const out = new Uint8Array(text.length);
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c > 0xff) throw new Error(`b(): char ${c} does not fit in a byte`);
    out[i] = c;
  }
  return out;
}

/** The inverse of {@link b}. */
export function s(bytes: Uint8Array): string {
  let out = "";
  for (let i = 0; i < bytes.length; i += 4096) {
    out += String.fromCharCode(...bytes.subarray(i, Math.min(i + 4096, bytes.length)));
  }
  return out;
}

/** CRLF-joined lines plus the empty line that ends a head. */
export function head(...lines: string[]): string {
  return lines.map((l) => l + "\r\n").join("") + "\r\n";
}

/** Resolves with `p`, or rejects if it takes longer than `ms`. Never leaves a timer behind. */
export async function within<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const late = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms: ${what}`)), ms);
  });
  try {
    return await Promise.race([p, late]);
  } finally {
    clearTimeout(timer);
  }
}

export function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

/** Lets every in-memory exchange that is ready run to completion (a few macrotask turns). */
export async function settle(): Promise<void> {
  for (let i = 0; i < 5; i++) await sleep(0);
}

/** One HTTP message as it crossed the wire, plus its parsed parts. */
export interface Message {
  /** Every byte of the message, as a latin1 string. */
  raw: string;
  /** The start line and header fields up to and including the empty line. */
  head: string;
  /** The start line without CRLF ("GET / HTTP/1.1", "HTTP/1.1 200 OK"). */
  startLine: string;
  /** Status code (responses only; 0 for requests). */
  status: number;
  /** Header fields as flat [name, value, ...] pairs, as received. */
  headers: string[];
  /** The decoded body (chunked framing removed). */
  body: string;
  /** Trailer fields of a chunked body as flat pairs, or null. */
  trailers: string[] | null;
}

type AnyReader = RequestReader | ResponseReader;

/**
 * A connection seen from a test: raw writes, buffered reads, and message-level reads that use the
 * project's codec to find where a message ends while keeping its exact bytes.
 */
export class Peer {
  readonly conn: Conn;
  readonly label: string;
  #buf = "";
  #eof = false;

  constructor(conn: Conn, label: string) {
    this.conn = conn;
    this.label = label;
  }

  /** Bytes received but not consumed by a read yet. */
  get buffered(): string {
    return this.#buf;
  }

  /** True once the peer's FIN (or close) was read. */
  get sawEof(): boolean {
    return this.#eof;
  }

  async write(data: string | Uint8Array): Promise<void> {
    const wait = this.conn.write(typeof data === "string" ? b(data) : data);
    if (wait) await within(wait, WAIT_MS, `${this.label}: write blocked`);
  }

  closeWrite(): void {
    this.conn.closeWrite();
  }

  close(): void {
    this.conn.close();
  }

  /** Reads one more chunk into the buffer; false at EOF. */
  async #fill(what: string, ms = WAIT_MS): Promise<boolean> {
    if (this.#eof) return false;
    const chunk = await within(this.conn.read(), ms, `${this.label}: ${what}`);
    if (chunk === null) {
      this.#eof = true;
      return false;
    }
    this.#buf += s(chunk);
    return true;
  }

  #take(n: number): string {
    const out = this.#buf.slice(0, n);
    this.#buf = this.#buf.slice(n);
    return out;
  }

  /** Everything up to and including `marker`; fails on EOF before it. */
  async readUntil(marker: string, ms = WAIT_MS): Promise<string> {
    for (;;) {
      const i = this.#buf.indexOf(marker);
      if (i >= 0) return this.#take(i + marker.length);
      if (!(await this.#fill(`waiting for ${JSON.stringify(marker)}`, ms))) {
        assert.fail(
          `${this.label}: EOF before ${JSON.stringify(marker)}; got ${JSON.stringify(this.#buf)}`,
        );
      }
    }
  }

  /** Exactly `n` bytes; fails on EOF before them. */
  async readExactly(n: number, ms = WAIT_MS): Promise<string> {
    while (this.#buf.length < n) {
      if (!(await this.#fill(`waiting for ${n} bytes`, ms))) {
        assert.fail(`${this.label}: EOF after ${this.#buf.length} of ${n} bytes`);
      }
    }
    return this.#take(n);
  }

  /** Whatever is buffered, or the next chunk; null at EOF. */
  async readSome(ms = WAIT_MS): Promise<string | null> {
    if (this.#buf.length === 0 && !(await this.#fill("waiting for data", ms))) return null;
    return this.#take(this.#buf.length);
  }

  /** Everything until EOF. */
  async readToEof(ms = WAIT_MS): Promise<string> {
    while (await this.#fill("waiting for EOF", ms)) { /* keep reading */ }
    return this.#take(this.#buf.length);
  }

  /** Asserts the peer sends nothing more and then EOF. */
  async expectEof(ms = WAIT_MS): Promise<void> {
    const rest = await this.readToEof(ms);
    assert.equal(rest, "", `${this.label}: expected EOF, got more bytes`);
  }

  /** The next request, or null if the connection ended cleanly before one. */
  readRequest(ms = WAIT_MS): Promise<Message | null> {
    return this.#readMessage(() => new RequestReader(), ms);
  }

  /** The next response (an interim 1xx counts as one), or null on a clean EOF before one. */
  readResponse(method = "GET", ms = WAIT_MS): Promise<Message | null> {
    return this.#readMessage(() => {
      const r = new ResponseReader();
      r.expect(method);
      return r;
    }, ms);
  }

  /** Like readRequest/readResponse but fails instead of returning null. */
  async request(ms = WAIT_MS): Promise<Message> {
    const m = await this.readRequest(ms);
    assert.ok(m !== null, `${this.label}: EOF instead of a request`);
    return m;
  }

  async response(method = "GET", ms = WAIT_MS): Promise<Message> {
    const m = await this.readResponse(method, ms);
    assert.ok(m !== null, `${this.label}: EOF instead of a response`);
    return m;
  }

  /**
   * Parses the buffer from scratch with a fresh codec reader after every chunk (simple and
   * exact: the bytes consumed are the buffer minus what the reader left unparsed).
   */
  async #readMessage(make: () => AnyReader, ms: number): Promise<Message | null> {
    for (;;) {
      const reader = make();
      reader.feed(b(this.#buf));
      if (this.#eof) reader.feedEof();
      const events: ReadEvent<unknown>[] = [];
      let done = false;
      for (;;) {
        const ev = reader.next() as ReadEvent<unknown> | null;
        if (ev === null) break;
        if (ev.type === "closed") return null;
        events.push(ev);
        if (ev.type === "end") {
          done = true;
          break;
        }
      }
      if (done) {
        const raw = this.#take(this.#buf.length - reader.bufferedLength);
        return toMessage(raw, events);
      }
      if (this.#eof) {
        assert.fail(`${this.label}: EOF in the middle of a message: ${JSON.stringify(this.#buf)}`);
      }
      // At EOF the next pass lets the reader see it: it ends a close-delimited body or throws.
      await this.#fill("waiting for a complete message", ms);
    }
  }
}

function toMessage(raw: string, events: ReadEvent<unknown>[]): Message {
  let body = "";
  let trailers: string[] | null = null;
  let headers: string[] = [];
  let status = 0;
  for (const ev of events) {
    if (ev.type === "head") {
      const h = ev.head as { headers: { raw: string[] }; status?: number };
      headers = h.headers.raw.slice();
      status = h.status ?? 0;
    } else if (ev.type === "data") body += s(ev.data);
    else if (ev.type === "end") trailers = ev.trailers === null ? null : ev.trailers.raw.slice();
  }
  const end = raw.indexOf("\r\n\r\n");
  const headText = raw.slice(0, end + 4);
  return {
    raw,
    head: headText,
    startLine: headText.slice(0, headText.indexOf("\r\n")),
    status,
    headers,
    body,
    trailers,
  };
}

/**
 * An origin server on the in-memory network whose connections are handed to the test in the
 * order they were opened.
 */
export class Origin {
  readonly host: string;
  readonly port: number;
  /** Every connection accepted so far. */
  readonly conns: Peer[] = [];
  listener!: Listener;
  #next = 0;
  #waiter: (() => void) | null = null;

  constructor(host: string, port: number) {
    this.host = host;
    this.port = port;
  }

  /** host:port as the proxy writes it in Host headers (port 80 omitted). */
  get authority(): string {
    return this.port === 80 ? this.host : `${this.host}:${this.port}`;
  }

  onConn = (conn: Conn): void => {
    this.conns.push(new Peer(conn, `origin ${this.host}:${this.port} #${this.conns.length}`));
    const w = this.#waiter;
    this.#waiter = null;
    w?.();
  };

  /** The next connection the proxy opens (waits for it). */
  async accept(ms = WAIT_MS): Promise<Peer> {
    while (this.#next >= this.conns.length) {
      await within(
        new Promise<void>((r) => (this.#waiter = r)),
        ms,
        `origin ${this.host}:${this.port}: waiting for a connection`,
      );
    }
    return this.conns[this.#next++];
  }

  close(): Promise<void> {
    for (const c of this.conns) c.close();
    return this.listener.close();
  }
}

export interface Harness {
  network: MemoryNetwork;
  proxy: ProxyServer;
  /** Starts an origin listening on host:port. */
  origin(host?: string, port?: number): Promise<Origin>;
  /** A new client connection to the proxy. */
  client(): Promise<Peer>;
  /** Closes the proxy (failing if that hangs), then every origin and client. */
  close(): Promise<void>;
}

/** A proxy on a fresh in-memory network (listening on 127.0.0.1, port chosen by the network). */
export async function setup(options: Partial<Options> = {}): Promise<Harness> {
  const network = new MemoryNetwork();
  const proxy = await startProxy({ listen_port: 0, ...options }, { network, ca: await testCa() });
  const origins: Origin[] = [];
  const clients: Peer[] = [];
  return {
    network,
    proxy,
    async origin(host = "origin.test", port = 80) {
      const o = new Origin(host, port);
      o.listener = await network.listen({ host, port }, o.onConn);
      origins.push(o);
      return o;
    },
    async client() {
      const conn = await network.connect({
        host: proxy.address.host,
        port: proxy.address.port,
      });
      const p = new Peer(conn, `client #${clients.length}`);
      clients.push(p);
      return p;
    },
    async close() {
      try {
        await within(proxy.close(), WAIT_MS, "proxy.close()");
      } finally {
        for (const o of origins) await o.close();
        for (const c of clients) c.close();
      }
    },
  };
}

/** Runs `body` with a fresh harness and always closes it. */
export async function withProxy(
  options: Partial<Options>,
  body: (h: Harness) => Promise<void>,
): Promise<void> {
  const h = await setup(options);
  try {
    await body(h);
  } finally {
    await h.close();
  }
}

/** The exact bytes of a response the proxy writes itself (see src/http/responses.ts). */
export function textResponse(status: string, text: string, close: boolean): string {
  const body = text.endsWith("\n") ? text : text + "\n";
  return `HTTP/1.1 ${status}\r\n` +
    `Content-Type: text/plain; charset=utf-8\r\n` +
    `Content-Length: ${new TextEncoder().encode(body).length}\r\n` +
    (close ? "Connection: close\r\n" : "") +
    "\r\n" + body;
}
