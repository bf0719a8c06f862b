/**
 * An HTTP/1 connection as a state machine, for either role (after h11's Connection): bytes in
 * with `receiveData`, events out with `nextEvent`, events in with `send`, bytes out. It knows the
 * rules of a connection (which message may come next, keep-alive, pipelining, 1xx, protocol
 * switches) and leaves every decision to its caller. No I/O.
 *
 * Each side has a state; these tables say which event moves it where. States driven by the other
 * side's events (a request moves the server to SEND_RESPONSE) and by connection-wide facts
 * (keep-alive off: DONE becomes MUST_CLOSE) are applied in `#settle`.
 *
 * ```ts
 * const server = new H1Connection("server");
 * server.receiveData(bytes("GET / HTTP/1.1\r\nHost: a\r\n\r\n"));
 * server.nextEvent(); // { type: "request", head }
 * server.nextEvent(); // { type: "end", trailers: null }
 * server.send({ type: "response", head: { version: "HTTP/1.1", status: 204, reason: "", headers } });
 * server.send({ type: "end", trailers: null });
 * server.startNextCycle(); // both sides IDLE again: the next request may be read
 * ```
 */
import { BodyWriter } from "./body.ts";
import { HttpError } from "./errors.ts";
import {
  type Framing,
  hasConnectionOption,
  keepsAlive,
  requestFraming,
  responseFraming,
} from "./framing.ts";
import type { HeadLimits, RequestHead, ResponseHead } from "./head.ts";
import { serializeRequestHead, serializeResponseHead } from "./head.ts";
import type { HeaderList } from "../http/headers.ts";
import { RequestReader, ResponseReader } from "./reader.ts";

export type Role = "client" | "server";

export type H1State =
  | "IDLE"
  | "SEND_RESPONSE"
  | "SEND_BODY"
  | "DONE"
  | "MUST_CLOSE"
  | "CLOSED"
  | "MIGHT_SWITCH_PROTOCOL"
  | "SWITCHED_PROTOCOL"
  | "ERROR";

export type H1Event =
  | { type: "request"; head: RequestHead }
  /** A 1xx response other than 101 (100 Continue, 103 Early Hints): the final one follows. */
  | { type: "informational"; head: ResponseHead }
  /** A final response (2xx-5xx), or 101 / 2xx to CONNECT, which switch protocols. */
  | { type: "response"; head: ResponseHead }
  | { type: "data"; data: Uint8Array }
  | { type: "end"; trailers: HeaderList | null }
  /** The peer closed the connection between messages. */
  | { type: "closed" };

/** nextEvent(): more bytes are needed. */
export const NEED_DATA = Object.freeze({ type: "need-data" as const });
/** nextEvent(): nothing can be read until startNextCycle() or a protocol switch is settled. */
export const PAUSED = Object.freeze({ type: "paused" as const });

/** Our own misuse: sending an event the state does not allow, or a body that breaks its framing. */
export class H1LocalError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "H1LocalError";
  }
}

type EventType = H1Event["type"];
type Table = Record<H1State, Partial<Record<EventType, H1State>>>;

/** Transitions of the client's state on the client's own events. */
export const CLIENT_TABLE: Table = {
  IDLE: { request: "SEND_BODY", closed: "CLOSED" },
  SEND_RESPONSE: {},
  SEND_BODY: { data: "SEND_BODY", end: "DONE" },
  DONE: { closed: "CLOSED" },
  MUST_CLOSE: { closed: "CLOSED" },
  CLOSED: { closed: "CLOSED" },
  MIGHT_SWITCH_PROTOCOL: {},
  SWITCHED_PROTOCOL: {},
  ERROR: {},
};

/**
 * Transitions of the server's state on the server's own events. A response from IDLE is allowed:
 * that is how a server answers a request it could not parse (400) before any request began.
 */
export const SERVER_TABLE: Table = {
  IDLE: { response: "SEND_BODY", closed: "CLOSED" },
  SEND_RESPONSE: { informational: "SEND_RESPONSE", response: "SEND_BODY" },
  SEND_BODY: { data: "SEND_BODY", end: "DONE" },
  DONE: { closed: "CLOSED" },
  MUST_CLOSE: { closed: "CLOSED" },
  CLOSED: { closed: "CLOSED" },
  MIGHT_SWITCH_PROTOCOL: {},
  SWITCHED_PROTOCOL: {},
  ERROR: {},
};

export class H1Connection {
  readonly role: Role;
  readonly #states: Record<Role, H1State> = { client: "IDLE", server: "IDLE" };
  readonly #reader: RequestReader | ResponseReader;
  /** False once either message of this cycle said the connection ends after it. */
  #keepAlive = true;
  /** The request of this cycle asked to switch: CONNECT, or an Upgrade header. */
  #proposal: "connect" | "upgrade" | null = null;
  #method: string | null = null;
  #expects100 = false;
  #sentResponse = false;
  /** An "end" from the reader that follows a 1xx head; not a message end for our caller. */
  #swallowEnd = false;
  #eof = false;
  #error: HttpError | null = null;
  #writer: BodyWriter | null = null;
  /** Body bytes still owed under Content-Length framing (-1: not length-framed). */
  #owed = -1;

  constructor(role: Role, limits: Partial<HeadLimits> = {}) {
    this.role = role;
    this.#reader = role === "server" ? new RequestReader(limits) : new ResponseReader(limits);
  }

  get ourState(): H1State {
    return this.#states[this.role];
  }
  get theirState(): H1State {
    return this.#states[this.role === "client" ? "server" : "client"];
  }
  /** Both states, for logs and tests. */
  get states(): Readonly<Record<Role, H1State>> {
    return { ...this.#states };
  }
  /** The method of the request of the current cycle. */
  get method(): string | null {
    return this.#method;
  }
  /** Framing of the message being read (valid after its head). */
  get receiveFraming(): Framing | null {
    return this.#reader.framing;
  }

  /**
   * Server role: the client sent Expect: 100-continue and is waiting for a first response
   * before it sends the body (RFC 9110 section 10.1.1).
   */
  get clientIsWaitingFor100Continue(): boolean {
    return this.#expects100 && !this.#sentResponse && this.#states.client === "SEND_BODY";
  }

  /** Bytes received and not yet read as events (the start of a pipelined request, say). */
  get bufferedLength(): number {
    return this.#reader.bufferedLength;
  }

  receiveData(chunk: Uint8Array): void {
    this.#reader.feed(chunk);
  }

  /** The peer closed its sending side. */
  receiveEof(): void {
    this.#eof = true;
    this.#reader.feedEof();
  }

  /** Bytes received past the last message: the new protocol's, after SWITCHED_PROTOCOL. */
  takeTrailingData(): Uint8Array {
    return this.#reader.takeBuffered();
  }

  /** The next event from the peer, NEED_DATA, or PAUSED. Throws HttpError on a malformed message. */
  nextEvent(): H1Event | typeof NEED_DATA | typeof PAUSED {
    if (this.#error) throw this.#error;
    const their = this.theirState;
    if (their === "MIGHT_SWITCH_PROTOCOL" || their === "SWITCHED_PROTOCOL") return PAUSED;
    if (their === "DONE" || their === "MUST_CLOSE" || their === "CLOSED") {
      if (this.#reader.bufferedLength > 0) return PAUSED;
      if (this.#eof && their !== "CLOSED") return this.#theirs({ type: "closed" });
      return their === "CLOSED" ? PAUSED : NEED_DATA;
    }
    if (this.role === "client" && their === "IDLE" && this.#eof) {
      // No request outstanding: the origin closed an idle connection.
      if (this.#reader.bufferedLength === 0) return this.#theirs({ type: "closed" });
    }
    try {
      for (;;) {
        const ev = this.#reader.next();
        if (ev === null) return NEED_DATA;
        if (ev.type === "closed" && !this.#peerMayClose()) {
          // The peer hung up in the middle of its message (or before its response began).
          throw new HttpError(
            this.role === "client" ? 502 : 400,
            this.role === "client"
              ? "closed the connection without responding"
              : "closed the connection before the request ended",
          );
        }
        if (ev.type === "end" && this.#swallowEnd) {
          this.#swallowEnd = false;
          continue;
        }
        if (ev.type === "head") {
          if ("method" in ev.head) return this.#theirs({ type: "request", head: ev.head });
          const head = ev.head;
          if (head.status < 200 && head.status !== 101) {
            this.#swallowEnd = true;
            return this.#theirs({ type: "informational", head });
          }
          return this.#theirs({ type: "response", head });
        }
        return this.#theirs(ev);
      }
    } catch (e) {
      if (e instanceof HttpError) {
        this.#states[this.role === "client" ? "server" : "client"] = "ERROR";
        this.#error = e;
      }
      throw e;
    }
  }

  /** Serializes one of our events; returns the wire bytes (pieces to send in order). */
  send(event: H1Event): Uint8Array[] {
    if (this.ourState === "ERROR") throw new H1LocalError("cannot send after a send failed");
    const out: Uint8Array[] = [];
    switch (event.type) {
      case "request":
        this.#transition(this.role, event);
        out.push(serializeRequestHead(event.head));
        this.#startBody(requestFraming(event.head));
        (this.#reader as ResponseReader).expect(event.head.method);
        break;
      case "informational":
        if (event.head.status >= 200 || event.head.status === 101) {
          throw new H1LocalError(`${event.head.status} is not an informational status`);
        }
        this.#transition(this.role, event);
        this.#sentResponse = true;
        out.push(serializeResponseHead(event.head));
        break;
      case "response": {
        this.#transition(this.role, event);
        out.push(serializeResponseHead(event.head));
        this.#startBody(responseFraming(event.head, this.#method ?? "GET"));
        break;
      }
      case "data":
        this.#transition(this.role, event);
        if (this.#owed >= 0) {
          if (event.data.length > this.#owed) {
            throw new H1LocalError("body is longer than its Content-Length");
          }
          this.#owed -= event.data.length;
        }
        this.#writer!.data(event.data, out);
        break;
      case "end":
        if (this.#owed > 0) {
          throw new H1LocalError(`body ended ${this.#owed} bytes short of its Content-Length`);
        }
        this.#transition(this.role, event);
        this.#writer?.end(event.trailers, out);
        this.#writer = null;
        this.#owed = -1;
        break;
      case "closed":
        this.#transition(this.role, event);
        break;
    }
    this.#settle();
    return out;
  }

  /** Our send failed half way (the caller gave up): nothing more may be sent. */
  sendFailed(): void {
    this.#states[this.role] = "ERROR";
  }

  /** After a complete exchange on a persistent connection: both sides back to IDLE. */
  startNextCycle(): void {
    if (this.#states.client !== "DONE" || this.#states.server !== "DONE") {
      throw new H1LocalError(
        `cannot start the next cycle in states ${this.#states.client}/${this.#states.server}`,
      );
    }
    this.#states.client = this.#states.server = "IDLE";
    this.#keepAlive = true;
    this.#proposal = null;
    this.#method = null;
    this.#expects100 = false;
    this.#sentResponse = false;
  }

  #startBody(framing: Framing): void {
    if (framing.kind === "switch" || framing.kind === "none") {
      this.#writer = new BodyWriter(framing);
      this.#owed = 0;
      return;
    }
    this.#writer = new BodyWriter(framing);
    this.#owed = framing.kind === "length" ? framing.length : -1;
    if (framing.kind === "close") this.#keepAlive = false;
  }

  /** Whether the peer's state allows it to close now (else its EOF is a protocol error). */
  #peerMayClose(): boolean {
    const table = this.role === "client" ? SERVER_TABLE : CLIENT_TABLE;
    return table[this.theirState].closed !== undefined;
  }

  /** Records an event of theirs and returns it. */
  #theirs(event: H1Event): H1Event {
    this.#transition(this.role === "client" ? "server" : "client", event);
    if (event.type === "response" && this.#reader.framing?.kind === "close") {
      this.#keepAlive = false;
    }
    this.#settle();
    return event;
  }

  /** Applies the table for `who`'s own event, plus what that event does to the other side. */
  #transition(who: Role, event: H1Event): void {
    const table = who === "client" ? CLIENT_TABLE : SERVER_TABLE;
    const from = this.#states[who];
    const to = table[from][event.type];
    if (to === undefined) {
      throw new H1LocalError(`${who} cannot ${describe(event)} in state ${from}`);
    }
    this.#states[who] = to;
    if (event.type === "request") {
      const head = event.head;
      this.#method = head.method;
      if (this.#states.server === "IDLE") this.#states.server = "SEND_RESPONSE";
      if (!keepsAlive(head.version, head.headers)) this.#keepAlive = false;
      if (head.method === "CONNECT") this.#proposal = "connect";
      else if (head.headers.has("upgrade") && hasConnectionOption(head.headers, "upgrade")) {
        this.#proposal = "upgrade";
      }
      this.#expects100 = (head.headers.get("expect") ?? "").toLowerCase() === "100-continue" &&
        head.version !== "HTTP/1.0";
    } else if (event.type === "response") {
      const head = event.head;
      this.#sentResponse = true;
      if (!keepsAlive(head.version, head.headers)) this.#keepAlive = false;
      const switches = (head.status === 101 && this.#proposal === "upgrade") ||
        (this.#proposal === "connect" && head.status >= 200 && head.status < 300);
      if (head.status === 101 && !switches) {
        const error = "101 Switching Protocols answers a request that did not ask to upgrade";
        if (who === this.role) throw new H1LocalError(error);
        throw new HttpError(502, error);
      }
      if (switches) {
        this.#states.client = this.#states.server = "SWITCHED_PROTOCOL";
      } else {
        // The proposal was declined: the client is an ordinary client again.
        this.#proposal = null;
        if (this.#states.client === "MIGHT_SWITCH_PROTOCOL") this.#states.client = "DONE";
      }
    }
  }

  /** State changes that follow from connection-wide facts rather than from one event. */
  #settle(): void {
    const s = this.#states;
    if (s.client === "DONE" && this.#proposal !== null && s.server !== "SWITCHED_PROTOCOL") {
      s.client = "MIGHT_SWITCH_PROTOCOL";
    }
    if (!this.#keepAlive) {
      if (s.client === "DONE") s.client = "MUST_CLOSE";
      if (s.server === "DONE") s.server = "MUST_CLOSE";
    }
  }
}

function describe(event: H1Event): string {
  switch (event.type) {
    case "request":
      return "send a request";
    case "informational":
      return "send an informational response";
    case "response":
      return "send a response";
    case "data":
      return "send body data";
    case "end":
      return "end a message";
    case "closed":
      return "close";
  }
}
