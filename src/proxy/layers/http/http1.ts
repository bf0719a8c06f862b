/**
 * HTTP/1 connection layers: bytes of one connection <-> stream events. Http1Server speaks to a
 * client (reads requests, writes responses), Http1Client to an origin (writes requests, reads
 * responses). Each carries one stream at a time; the H1Connection decides what may come next,
 * so keep-alive, pipelining (the next request waits until this response is out), 1xx and
 * protocol switches follow its state tables.
 */
import { H1Connection, type H1Event } from "../../../http1/connection.ts";
import { HttpError } from "../../../http1/errors.ts";
import type { HeaderList } from "../../../http/headers.ts";
import { authorityOf, type Scheme } from "../../../http/message.ts";
import { Arm, CloseConnection, type Command, Disarm, Log, SendData } from "../../core/commands.ts";
import type { Connection, Server } from "../../core/connection.ts";
import type { Context } from "../../core/context.ts";
import { ConnectionClosed, DataReceived, type Event, Start, Wakeup } from "../../core/events.ts";
import { DirectLayer } from "../../core/layer.ts";
import {
  InformationalResponse,
  ReceiveHttp,
  RequestData,
  RequestEnd,
  RequestHeaders,
  RequestProtocolError,
  ResponseData,
  ResponseEnd,
  ResponseHeaders,
  ResponseProtocolError,
} from "./events.ts";
import { requestFromH1, requestToH1, responseFromH1, responseToH1 } from "./h1_convert.ts";

function limitsOf(context: Context) {
  const o = context.options;
  return {
    maxHeadBytes: o.maxHeadBytes,
    maxHeaderCount: o.maxHeaderCount,
    maxBodyBytes: o.maxBodyBytes,
  };
}

/** The client's states once its request has been read whole. */
const REQUEST_READ = new Set(["DONE", "MIGHT_SWITCH_PROTOCOL", "CLOSED"]);

/** States after which this connection carries nothing more. */
const ENDING = new Set(["MUST_CLOSE", "ERROR", "CLOSED"]);

abstract class Http1Layer extends DirectLayer {
  readonly conn: Connection;
  readonly h1: H1Connection;
  /** The stream being carried, or 0 between exchanges. */
  streamId = 0;

  constructor(context: Context, conn: Connection, role: "client" | "server") {
    super(context);
    this.conn = conn;
    this.h1 = new H1Connection(role, limitsOf(context));
  }

  override toString(): string {
    return `${this.constructor.name}(${this.h1.states.client}/${this.h1.states.server})`;
  }

  #closed = false;

  /** Closes the connection (once: several paths may decide it in one go). */
  protected close(out: Command[], linger = false): void {
    if (this.#closed || !this.conn.open) return;
    this.#closed = true;
    out.push(new CloseConnection(this.conn, false, linger));
  }

  /**
   * Serializes our event: one SendData per piece (a chunk's size line, its data, its CRLF). The
   * driver writes one event's pieces together, joining small ones; a large body chunk is not
   * copied to stick a few framing bytes to it.
   */
  protected write(event: H1Event, out: Command[]): void {
    for (const piece of this.h1.send(event)) out.push(new SendData(this.conn, piece));
  }

  /** Pulls every event the H1Connection can give now and hands each to `onEvent`. */
  protected pull(out: Command[]): void {
    for (;;) {
      // The peer's error was reported once (it may have been found while looking ahead).
      if (this.h1.theirState === "ERROR") return;
      let ev: ReturnType<H1Connection["nextEvent"]>;
      try {
        ev = this.h1.nextEvent();
      } catch (e) {
        if (!(e instanceof HttpError)) throw e;
        this.onProtocolError(e, out);
        return;
      }
      if (ev.type === "need-data" || ev.type === "paused") return;
      this.onEvent(ev, out);
    }
  }

  /** Starts the next exchange once both sides are DONE; closes when either must close. */
  protected finishExchange(out: Command[]): void {
    const { client, server } = this.h1.states;
    // One message is still under way (an origin answered before the request body was all
    // sent): the exchange finishes when that message ends.
    if (client === "SEND_BODY" || server === "SEND_BODY") return;
    if (client === "DONE" && server === "DONE") {
      this.h1.startNextCycle();
      this.streamId = 0;
      this.pull(out);
    } else if (ENDING.has(client) || ENDING.has(server)) {
      this.streamId = 0;
      this.close(out);
    }
  }

  protected abstract onEvent(ev: H1Event, out: Command[]): void;
  protected abstract onProtocolError(e: HttpError, out: Command[]): void;
}

/** The client's side: requests in, responses out. Stream ids are 1, 3, 5... as in HTTP/2. */
export class Http1Server extends Http1Layer {
  #nextStreamId = 1;
  #method = "GET";
  #version = "HTTP/1.1";
  #closeAfter = false;
  readonly #scheme: Scheme;

  constructor(context: Context, scheme: Scheme = "http") {
    super(context, context.client, "server");
    this.#scheme = scheme;
  }

  protected handle(event: Event, out: Command[]): void {
    if (event instanceof Start) {
      this.#armTimer("idle", out);
    } else if (event instanceof DataReceived && event.conn === this.conn) {
      this.#bodyProgress = true;
      this.h1.receiveData(event.data);
      this.pull(out);
      // Part of a request head arrived: from now on the head must complete in time. (A head
      // that arrives whole, the common case, costs no timer.)
      if (this.streamId === 0 && this.h1.bufferedLength > 0 && this.#timerKind !== "header") {
        this.#armTimer("header", out);
      }
    } else if (event instanceof ConnectionClosed && event.conn === this.conn) {
      this.#disarm(out);
      this.h1.receiveEof();
      this.pull(out);
    } else if (event instanceof Wakeup && event.command === this.#timer) {
      this.#expired(out);
    } else if (event instanceof InformationalResponse) {
      // HTTP/1.0 has no interim responses (RFC 9110 section 15.2).
      if (this.#version !== "HTTP/1.0") {
        this.write({
          type: "informational",
          head: responseToH1(event.head, this.#method, this.#version).head,
        }, out);
      }
    } else if (event instanceof ResponseHeaders) {
      const { head, closeAfter } = responseToH1(event.head, this.#method, this.#version);
      this.#closeAfter = closeAfter;
      if (!REQUEST_READ.has(this.h1.theirState)) {
        // Answering before the request body was read: the rest of it cannot be skipped
        // reliably, so the connection ends after this response (RFC 9112 section 9.6).
        if (!head.headers.has("connection")) head.headers.set("Connection", "close");
      }
      this.write({ type: "response", head }, out);
      if (this.h1.ourState === "SWITCHED_PROTOCOL") return;
      if (event.endStream) this.#endResponse(null, out);
    } else if (event instanceof ResponseData) {
      this.write({ type: "data", data: event.data }, out);
    } else if (event instanceof ResponseEnd) {
      this.#endResponse(event.trailers, out);
    } else if (event instanceof ResponseProtocolError) {
      // The response broke half way: the client can only learn it from the connection closing.
      // Or it went out whole and the upload failed (the origin closed while it still came in):
      // then the client, maybe still sending, lingers to see that response.
      const answered = this.h1.ourState === "DONE" || this.h1.ourState === "MUST_CLOSE";
      this.streamId = 0;
      this.close(out, answered && this.h1.theirState === "SEND_BODY");
    }
  }

  #endResponse(trailers: HeaderList | null, out: Command[]): void {
    this.write({ type: "end", trailers: this.#version === "HTTP/1.0" ? null : trailers }, out);
    if (this.#closeAfter || this.#bodyStalled) {
      this.streamId = 0;
      // An upload not read whole may still be coming: linger so the client sees this response.
      this.close(out, this.h1.theirState === "SEND_BODY");
      return;
    }
    this.finishExchange(out);
    // Waiting for the next request (unless one already began or the connection ends).
    if (this.streamId === 0 && this.h1.ourState === "IDLE") {
      this.#armTimer(this.h1.bufferedLength > 0 ? "header" : "idle", out);
    }
  }

  // ---- deadlines: idle between requests, the time a request head may take, and the time the
  // request body may go without bringing bytes ----

  #timer: Arm | null = null;
  #timerKind: "idle" | "header" | "body" | null = null;
  /** Bytes came from the client since the body timer was armed. */
  #bodyProgress = false;
  /** The request body stalled: the connection ends after whatever answer goes out. */
  #bodyStalled = false;

  #armTimer(kind: "idle" | "header" | "body", out: Command[]): void {
    this.#disarm(out);
    const o = this.context.options;
    const ms = kind === "idle"
      ? o.idleTimeoutMs
      : kind === "header"
      ? o.headerTimeoutMs
      : o.bodyTimeoutMs;
    this.#bodyProgress = false;
    if (ms === Infinity) return;
    // The body timer waits for the client's bytes: the driver does not count time it held back
    // reading the client (the origin slow to take the upload).
    this.#timer = new Arm(ms, kind === "body" ? this.conn : null);
    this.#timerKind = kind;
    out.push(this.#timer);
  }

  #disarm(out: Command[]): void {
    if (this.#timer === null) return;
    out.push(new Disarm(this.#timer));
    this.#timer = null;
    this.#timerKind = null;
  }

  #expired(out: Command[]): void {
    const kind = this.#timerKind;
    this.#timer = null;
    this.#timerKind = null;
    if (kind === "idle") {
      this.close(out);
      return;
    }
    if (kind === "body") {
      this.#bodyExpired(out);
      return;
    }
    const s = this.context.options.headerTimeoutMs / 1000;
    this.onProtocolError(new HttpError(408, `request head not complete after ${s} s`), out);
  }

  /**
   * The body timer fired. Bytes arrived meanwhile, or the client is waiting for 100 Continue
   * before it sends its body (the origin's turn): wait another period. Else the upload stalled:
   * the stream answers 408 if nothing was answered yet, and the connection ends either way.
   */
  #bodyExpired(out: Command[]): void {
    if (this.h1.theirState !== "SEND_BODY") return;
    if (this.#bodyProgress || this.h1.clientIsWaitingFor100Continue) {
      this.#armTimer("body", out);
      return;
    }
    this.#bodyStalled = true;
    const s = this.context.options.bodyTimeoutMs / 1000;
    const why = `the client stopped sending the request body for ${s} s (body_timeout)`;
    const answered = this.h1.ourState !== "SEND_RESPONSE";
    out.push(new Log(`${this.conn.label}: ${why}`, "info"));
    out.push(new ReceiveHttp(new RequestProtocolError(this.streamId, why, answered ? 0 : 408)));
    // Answering had begun (or is over): closing is the only way left to tell the client.
    if (answered) this.close(out);
  }

  protected onEvent(ev: H1Event, out: Command[]): void {
    switch (ev.type) {
      case "request": {
        this.#disarm(out);
        this.streamId = this.#nextStreamId;
        this.#nextStreamId += 2;
        this.#method = ev.head.method;
        this.#version = ev.head.version;
        this.#closeAfter = false;
        let head;
        try {
          head = requestFromH1(ev.head, this.#scheme, this.context.server?.address ?? null);
        } catch (e) {
          if (!(e instanceof HttpError)) throw e;
          out.push(new ReceiveHttp(new RequestProtocolError(this.streamId, e.message, e.status)));
          return;
        }
        // A body that is malformed from its first bytes on (they came with the head) fails the
        // request before anything of it goes to an origin.
        let next: ReturnType<H1Connection["nextEvent"]>;
        try {
          next = this.h1.nextEvent();
        } catch (e) {
          if (!(e instanceof HttpError)) throw e;
          this.onProtocolError(e, out);
          return;
        }
        out.push(new ReceiveHttp(new RequestHeaders(this.streamId, head, false)));
        if (next.type !== "need-data" && next.type !== "paused") this.onEvent(next, out);
        // The body is still to come: it must keep bringing bytes (body_timeout).
        if (this.h1.theirState === "SEND_BODY" && this.#timerKind !== "body") {
          this.#armTimer("body", out);
        }
        return;
      }
      case "data":
        out.push(new ReceiveHttp(new RequestData(this.streamId, ev.data)));
        return;
      case "end":
        if (this.#timerKind === "body") this.#disarm(out);
        out.push(new ReceiveHttp(new RequestEnd(this.streamId, ev.trailers)));
        // The response went out first: the exchange is over now.
        if (this.h1.ourState === "DONE" || this.h1.ourState === "MUST_CLOSE") {
          this.finishExchange(out);
        }
        return;
      case "closed":
        if (this.streamId !== 0 && !this.#responseDone()) {
          // The client left (or half-closed) after its request, before its response was done:
          // the exchange is abandoned and its origin connection freed, as
          // nginx (proxy_ignore_client_abort off) do; a FIN looks the same as leaving.
          const id = this.streamId;
          this.streamId = 0;
          out.push(new Log(`${this.conn.label}: client closed the connection`, "debug"));
          out.push(
            new ReceiveHttp(new RequestProtocolError(id, "client closed the connection", 0)),
          );
        }
        this.close(out);
        return;
      default:
        return;
    }
  }

  /** Our response of this exchange is out whole. */
  #responseDone(): boolean {
    const ours = this.h1.ourState;
    return ours === "DONE" || ours === "MUST_CLOSE" || ours === "CLOSED";
  }

  protected onProtocolError(e: HttpError, out: Command[]): void {
    if (this.streamId === 0 || this.h1.ourState === "IDLE") {
      // A request we could not even start: it gets a stream of its own, to be answered.
      if (this.streamId === 0) {
        this.streamId = this.#nextStreamId;
        this.#nextStreamId += 2;
      }
    }
    out.push(new Log(`${this.conn.label}: ${e.message}`, "info"));
    out.push(new ReceiveHttp(new RequestProtocolError(this.streamId, e.message, e.status)));
  }
}

/** The origin's side: requests out, responses in. */
export class Http1Client extends Http1Layer {
  readonly server: Server;

  constructor(context: Context, server: Server) {
    super(context, server, "client");
    this.server = server;
  }

  /** Free for a new stream (the pool's capacity check). */
  get idle(): boolean {
    return this.streamId === 0 && this.h1.ourState === "IDLE" && this.conn.open;
  }

  protected handle(event: Event, out: Command[]): void {
    if (event instanceof DataReceived && event.conn === this.conn) {
      this.#bodyProgress = true;
      this.h1.receiveData(event.data);
      this.pull(out);
    } else if (event instanceof ConnectionClosed && event.conn === this.conn) {
      this.#disarmBody(out);
      this.h1.receiveEof();
      this.pull(out);
    } else if (event instanceof Wakeup && event.command === this.#bodyTimer) {
      this.#bodyExpired(out);
    } else if (event instanceof RequestHeaders) {
      this.streamId = event.streamId;
      // Through an upstream proxy without a tunnel: absolute-form, with its credentials.
      const absolute = this.server.via !== null && !this.server.tunnel;
      const head = requestToH1(event.head, absolute);
      if (absolute && this.server.viaAuth !== null) {
        head.headers.set("Proxy-Authorization", this.server.viaAuth);
      }
      this.write({ type: "request", head }, out);
      if (event.endStream) this.write({ type: "end", trailers: null }, out);
    } else if (event instanceof RequestData) {
      this.write({ type: "data", data: event.data }, out);
    } else if (event instanceof RequestEnd) {
      this.write({ type: "end", trailers: event.trailers }, out);
      if (this.h1.theirState !== "SEND_RESPONSE" && this.h1.theirState !== "SEND_BODY") {
        this.finishExchange(out); // the response was complete before the request
      }
    } else if (event instanceof RequestProtocolError) {
      // The client broke off its request: this connection carries half a message; drop it.
      this.streamId = 0;
      this.close(out);
    }
  }

  protected onEvent(ev: H1Event, out: Command[]): void {
    const id = this.streamId;
    switch (ev.type) {
      case "informational":
        out.push(new ReceiveHttp(new InformationalResponse(id, responseFromH1(ev.head))));
        return;
      case "response": {
        // The body bytes that came with the head are read before the head goes on: a body that
        // is malformed in them fails the exchange while the client can still get a 502 saying
        // why, rather than half a response and a closed connection.
        const ahead: H1Event[] = [];
        try {
          for (;;) {
            const next = this.h1.nextEvent();
            if (next.type === "need-data" || next.type === "paused") break;
            ahead.push(next);
            if (next.type === "end" || next.type === "closed") break;
          }
        } catch (e) {
          if (!(e instanceof HttpError)) throw e;
          this.onProtocolError(e, out);
          return;
        }
        out.push(new ReceiveHttp(new ResponseHeaders(id, responseFromH1(ev.head), false)));
        for (const next of ahead) this.onEvent(next, out);
        // The body is still to come: it must keep bringing bytes (body_timeout).
        if (this.streamId === id && this.h1.theirState === "SEND_BODY") this.#armBody(out);
        return;
      }
      case "data":
        out.push(new ReceiveHttp(new ResponseData(id, ev.data)));
        return;
      case "end":
        this.#disarmBody(out);
        out.push(new ReceiveHttp(new ResponseEnd(id, ev.trailers)));
        this.finishExchange(out);
        return;
      case "closed":
        this.#disarmBody(out);
        this.close(out);
        if (id !== 0) {
          this.streamId = 0;
          out.push(
            new ReceiveHttp(
              new ResponseProtocolError(id, "closed the connection without responding"),
            ),
          );
        }
        return;
      default:
        return;
    }
  }

  // ---- body_timeout: the response body must keep bringing bytes ----

  #bodyTimer: Arm | null = null;
  /** Bytes came from the origin since the body timer was armed. */
  #bodyProgress = false;

  #armBody(out: Command[]): void {
    this.#disarmBody(out);
    const ms = this.context.options.bodyTimeoutMs;
    if (ms === Infinity) return;
    this.#bodyProgress = false;
    // It waits for the origin's bytes: time the driver held back reading the origin (the client
    // slow to take the download) does not count.
    out.push(this.#bodyTimer = new Arm(ms, this.conn));
  }

  #disarmBody(out: Command[]): void {
    if (this.#bodyTimer === null) return;
    out.push(new Disarm(this.#bodyTimer));
    this.#bodyTimer = null;
  }

  /** The body timer fired: bytes came meanwhile (wait another period), or the origin stalled. */
  #bodyExpired(out: Command[]): void {
    this.#bodyTimer = null;
    if (this.streamId === 0 || this.h1.theirState !== "SEND_BODY") return;
    if (this.#bodyProgress) {
      this.#armBody(out);
      return;
    }
    const s = this.context.options.bodyTimeoutMs / 1000;
    const who = authorityOf(this.server.address.host, this.server.address.port);
    this.onProtocolError(
      new HttpError(502, `${who} stopped sending the response body for ${s} s (body_timeout)`),
      out,
    );
  }

  protected onProtocolError(e: HttpError, out: Command[]): void {
    this.#disarmBody(out);
    // Closed first, so that the pool forgets the connection before the stream hears of it.
    this.close(out);
    if (this.streamId !== 0) {
      const id = this.streamId;
      this.streamId = 0;
      out.push(new ReceiveHttp(new ResponseProtocolError(id, e.message)));
    }
  }
}
