/**
 * A sans-IO HTTP/2 connection for either role (RFC 9113): feed received bytes to `receive`, which
 * returns events; call methods to send; take the bytes to write with `dataToSend`. Nothing here
 * touches a socket or a clock.
 *
 * Errors the peer causes never throw: a stream error resets that stream (RST_STREAM, a "reset"
 * event) and a connection error queues GOAWAY and reports "connectionError", after which the
 * connection ignores input. Methods throw {@link Http2UsageError} when the caller asks for
 * something the protocol forbids.
 *
 * Flow control is driven by the caller: received DATA is announced to the peer as consumed only
 * when `acknowledgeData` says so, so a slow reader of one stream holds back only that stream.
 * Sending respects the peer's windows: data beyond them is queued and goes out as WINDOW_UPDATEs
 * arrive ("drained" events say when a stream's queue is empty).
 */
import { ConnectionCore, PREFACE } from "./connection_core.ts";
import { ErrorCode, Http2ConnectionError, Http2Error, Http2StreamError } from "./errors.ts";
import type { Http2Event } from "./events.ts";
import { parseRequestFields, parseResponseFields, parseTrailerFields } from "./fields.ts";
import type { Frame } from "./frame.ts";
import type { DecodedField } from "./hpack/decoder.ts";
import { applySettings, MAX_WINDOW_SIZE, SettingId } from "./settings.ts";
import { Stream } from "./stream.ts";

export class Http2Connection extends ConnectionCore {
  // ---------------------------------------------------------------- input

  /** Processes received bytes; returns what happened. */
  receive(bytes: Uint8Array): Http2Event[] {
    if (this.dead) return [];
    try {
      let input = bytes;
      if (this.prefaceLeft > 0) input = this.#checkPreface(input);
      this.reader.feed(input);
      for (;;) {
        let frame: Frame | null;
        try {
          frame = this.reader.next();
        } catch (e) {
          if (e instanceof Http2StreamError) {
            this.resets.countFrame();
            this.#streamError(e);
            continue;
          }
          throw e;
        }
        if (frame === null) break;
        this.resets.countFrame();
        try {
          this.#handle(frame);
        } catch (e) {
          if (e instanceof Http2StreamError) this.#streamError(e);
          else throw e;
        }
      }
    } catch (e) {
      if (!(e instanceof Http2Error)) throw e;
      this.#connectionError(e.code, e.message);
    }
    const events = this.events;
    this.events = [];
    return events;
  }

  #checkPreface(input: Uint8Array): Uint8Array {
    const offset = PREFACE.length - this.prefaceLeft;
    const n = Math.min(this.prefaceLeft, input.length);
    for (let i = 0; i < n; i++) {
      if (input[i] !== PREFACE[offset + i]) {
        throw new Http2ConnectionError(
          ErrorCode.PROTOCOL_ERROR,
          "the client did not send the HTTP/2 connection preface",
        );
      }
    }
    this.prefaceLeft -= n;
    return input.subarray(n);
  }

  #connectionError(code: number, message: string): void {
    if (this.dead) return;
    this.dead = true;
    const debug = Uint8Array.from(message.slice(0, 200), (c) => c.charCodeAt(0) & 0xff);
    this.emitFrame({ type: "goaway", lastStreamId: this.lastPeerStreamId, code, debug });
    this.events.push({ type: "connectionError", code, message });
  }

  /** Resets a stream because of the peer's error, and tells the caller. */
  #streamError(e: Http2StreamError): void {
    const stream = this.streams.get(e.streamId);
    this.emitControl({ type: "rst_stream", streamId: e.streamId, code: e.code });
    this.close(e.streamId, "reset_by_us");
    if (stream !== undefined) {
      this.events.push({
        type: "reset",
        streamId: e.streamId,
        code: e.code,
        remote: false,
        message: e.message,
      });
    }
    this.#countReset();
  }

  #countReset(): void {
    if (this.resets.add()) {
      throw new Http2ConnectionError(
        ErrorCode.ENHANCE_YOUR_CALM,
        `more than ${this.limits.maxResetsInWindow} streams reset within ${this.limits.resetWindowFrames} frames`,
      );
    }
  }

  #handle(f: Frame): void {
    if (!this.sawPeerSettings) {
      // The first frame of either side's preface is SETTINGS (3.4).
      if (f.type !== "settings" || f.ack) {
        throw new Http2ConnectionError(
          ErrorCode.PROTOCOL_ERROR,
          `expected SETTINGS as the first frame, got ${f.type.toUpperCase()}`,
        );
      }
      this.sawPeerSettings = true;
    }
    // Between HEADERS and its last CONTINUATION no other frame may come (6.10).
    if (this.blocks.active && f.type !== "continuation") {
      throw new Http2ConnectionError(
        ErrorCode.PROTOCOL_ERROR,
        `${f.type.toUpperCase()} frame in the middle of a header block`,
      );
    }
    switch (f.type) {
      case "data":
        return this.#onData(f);
      case "headers":
        return this.#onHeaders(f);
      case "continuation": {
        const done = this.blocks.continuation(f.streamId, f.block, f.endHeaders);
        if (done !== null) {
          this.#onHeaderBlock(done.streamId, done.block, done.endStream, done.selfDependent);
        }
        return;
      }
      case "priority":
        // Priority signals are ignored (RFC 9113 5.3.2), but self-dependency is still an error.
        if (f.priority.dependency === f.streamId) {
          throw new Http2StreamError(
            f.streamId,
            ErrorCode.PROTOCOL_ERROR,
            "stream depends on itself",
          );
        }
        return;
      case "rst_stream":
        return this.#onReset(f.streamId, f.code);
      case "settings":
        return this.#onSettings(f.ack, f.settings);
      case "push_promise":
        // We always send SETTINGS_ENABLE_PUSH = 0, and clients never push (8.4).
        throw new Http2ConnectionError(
          ErrorCode.PROTOCOL_ERROR,
          "PUSH_PROMISE though push is disabled",
        );
      case "ping":
        if (f.ack) this.events.push({ type: "pingAck", data: f.data.slice() });
        else this.emitControl({ type: "ping", ack: true, data: f.data.slice() });
        return;
      case "goaway":
        return this.#onGoaway(f.lastStreamId, f.code, f.debug);
      case "window_update":
        return this.#onWindowUpdate(f.streamId, f.increment);
      case "unknown":
        return; // 5.5: unknown frame types are ignored
    }
  }

  #onHeaders(f: Frame & { type: "headers" }): void {
    // A stream depending on itself is reset (5.3.1), after decoding to keep HPACK in step.
    const selfDependent = f.priority !== undefined && f.priority.dependency === f.streamId;
    const done = this.blocks.start(f.streamId, f.block, f.endHeaders, f.endStream, selfDependent);
    if (done !== null) {
      this.#onHeaderBlock(done.streamId, done.block, done.endStream, done.selfDependent);
    }
  }

  #onHeaderBlock(id: number, block: Uint8Array, endStream: boolean, selfDependent: boolean): void {
    // Decode first, whatever happens to the stream: the HPACK state is shared (4.3).
    const fields = this.decoder.decode(block);
    const stream = this.streams.get(id);
    if (stream === undefined) {
      if (!this.isIdle(id)) {
        const how = this.closedStreams.get(id);
        if (how === "reset_by_us") return; // frames in flight after our reset
        // A known closed stream is STREAM_CLOSED; an id never opened is out of order (5.1.1).
        if (how !== undefined) {
          throw new Http2ConnectionError(ErrorCode.STREAM_CLOSED, `HEADERS on closed stream ${id}`);
        }
        throw new Http2ConnectionError(
          ErrorCode.PROTOCOL_ERROR,
          `HEADERS on stream ${id}, lower than a stream already opened`,
        );
      }
      if (!this.peerInitiated(id) || this.role === "client") {
        throw new Http2ConnectionError(
          ErrorCode.PROTOCOL_ERROR,
          `HEADERS opening stream ${id}, which the ${
            this.role === "server" ? "client" : "server"
          } may not open`,
        );
      }
      this.lastPeerStreamId = id;
      if (this.goawaySent !== null && id > this.goawaySent) return; // not processed (6.8)
      if (selfDependent) {
        throw new Http2StreamError(id, ErrorCode.PROTOCOL_ERROR, "stream depends on itself");
      }
      return this.#onRequest(id, fields, endStream);
    }
    if (selfDependent) {
      throw new Http2StreamError(id, ErrorCode.PROTOCOL_ERROR, "stream depends on itself");
    }
    if (!stream.canReceive) {
      throw new Http2StreamError(
        id,
        ErrorCode.STREAM_CLOSED,
        `HEADERS on half-closed stream ${id}`,
      );
    }
    if (this.role === "client" && !stream.headersReceived) {
      return this.#onResponse(stream, fields, endStream);
    }
    // A second header list is trailers, which end the message (8.1).
    if (!endStream) {
      throw new Http2StreamError(id, ErrorCode.PROTOCOL_ERROR, "trailers without END_STREAM");
    }
    const headers = parseTrailerFields(id, fields);
    this.#checkLength(stream, true);
    this.#remoteEnded(stream);
    this.events.push({ type: "trailers", streamId: id, headers });
  }

  #onRequest(id: number, fields: DecodedField[], endStream: boolean): void {
    let active = 0;
    for (const s of this.streams.values()) if (this.peerInitiated(s.id)) active++;
    if (active >= this.localSettings.maxConcurrentStreams) {
      throw new Http2StreamError(
        id,
        ErrorCode.REFUSED_STREAM,
        `more than ${this.localSettings.maxConcurrentStreams} concurrent streams`,
      );
    }
    const parsed = parseRequestFields(id, fields, this.localSettings.enableConnectProtocol);
    const stream = new Stream(
      id,
      this.remoteSettings.initialWindowSize,
      this.ackedLocal.initialWindowSize,
    );
    stream.headersReceived = true;
    stream.expectedLength = parsed.contentLength;
    this.streams.set(id, stream);
    this.events.push({
      type: "request",
      streamId: id,
      pseudo: parsed.pseudo,
      headers: parsed.headers,
      endStream,
    });
    if (endStream) {
      this.#checkLength(stream, true);
      this.#remoteEnded(stream);
    }
  }

  #onResponse(stream: Stream, fields: DecodedField[], endStream: boolean): void {
    const parsed = parseResponseFields(stream.id, fields);
    const status = parsed.pseudo.status;
    if (status < 200) {
      if (endStream) {
        throw new Http2StreamError(
          stream.id,
          ErrorCode.PROTOCOL_ERROR,
          "1xx response with END_STREAM",
        );
      }
    } else {
      stream.headersReceived = true;
      stream.expectedLength = parsed.contentLength;
    }
    this.events.push({
      type: "response",
      streamId: stream.id,
      status,
      headers: parsed.headers,
      endStream,
    });
    if (endStream) {
      this.#checkLength(stream, true);
      this.#remoteEnded(stream);
    }
  }

  /** content-length must match the DATA received (8.1.1); checked as data comes and at the end. */
  #checkLength(stream: Stream, atEnd: boolean): void {
    const expected = stream.expectedLength;
    if (expected === null) return;
    if (stream.receivedLength > expected || (atEnd && stream.receivedLength !== expected)) {
      throw new Http2StreamError(
        stream.id,
        ErrorCode.PROTOCOL_ERROR,
        `body of ${stream.receivedLength}${
          atEnd ? "" : "+"
        } bytes, but content-length is ${expected}`,
      );
    }
  }

  #onData(f: Frame & { type: "data" }): void {
    const id = f.streamId;
    const flowLength = f.data.length + (f.padLength === undefined ? 0 : f.padLength + 1);
    if (this.isIdle(id)) {
      throw new Http2ConnectionError(ErrorCode.PROTOCOL_ERROR, `DATA on idle stream ${id}`);
    }
    if (flowLength > this.recvWindow) {
      throw new Http2ConnectionError(
        ErrorCode.FLOW_CONTROL_ERROR,
        `DATA of ${flowLength} bytes exceeds the connection window of ${this.recvWindow}`,
      );
    }
    this.recvWindow -= flowLength;
    this.recvOutstanding += flowLength;
    const stream = this.streams.get(id);
    if (stream === undefined || !stream.canReceive) {
      // Nobody will consume these bytes: give them back to the connection window now.
      this.creditConnection(flowLength);
      if (stream === undefined && this.closedStreams.get(id) === "reset_by_us") return;
      throw new Http2StreamError(id, ErrorCode.STREAM_CLOSED, `DATA on closed stream ${id}`);
    }
    if (!stream.headersReceived) {
      this.creditConnection(flowLength);
      throw new Http2StreamError(id, ErrorCode.PROTOCOL_ERROR, "DATA before the response headers");
    }
    if (flowLength > stream.recvWindow) {
      this.creditConnection(flowLength);
      throw new Http2StreamError(
        id,
        ErrorCode.FLOW_CONTROL_ERROR,
        `DATA of ${flowLength} bytes exceeds the stream window of ${stream.recvWindow}`,
      );
    }
    stream.recvWindow -= flowLength;
    stream.recvOutstanding += flowLength;
    // Padding is nobody's data: acknowledge it at once.
    const padding = flowLength - f.data.length;
    if (padding > 0) this.acknowledgeData(id, padding);
    if (f.data.length === 0 && !f.endStream) {
      if (++this.emptyDataFrames > this.limits.maxEmptyDataFrames) {
        throw new Http2ConnectionError(
          ErrorCode.ENHANCE_YOUR_CALM,
          `more than ${this.limits.maxEmptyDataFrames} empty DATA frames`,
        );
      }
      return;
    }
    stream.receivedLength += f.data.length;
    this.#checkLength(stream, f.endStream);
    this.events.push({ type: "data", streamId: id, data: f.data, endStream: f.endStream });
    if (f.endStream) this.#remoteEnded(stream);
  }

  #onReset(id: number, code: number): void {
    if (this.isIdle(id)) {
      throw new Http2ConnectionError(ErrorCode.PROTOCOL_ERROR, `RST_STREAM on idle stream ${id}`);
    }
    const stream = this.streams.get(id);
    if (stream === undefined) return; // already closed: nothing to do
    this.close(id, "reset_by_peer");
    this.events.push({ type: "reset", streamId: id, code, remote: true });
    this.#countReset();
  }

  #onSettings(ack: boolean, params: [number, number][]): void {
    if (ack) {
      const acked = this.pendingLocal.shift();
      if (acked === undefined) return;
      // Streams' receive windows follow the acknowledged initial window (6.9.2).
      const delta = acked.initialWindowSize - this.ackedLocal.initialWindowSize;
      if (delta !== 0) { for (const s of this.streams.values()) s.recvWindow += delta; }
      this.ackedLocal = acked;
      // The peer now encodes against our table size limit (RFC 7541 4.2).
      this.decoder.setMaxTableSize(acked.headerTableSize);
      this.events.push({ type: "settingsAcked" });
      return;
    }
    const before = this.remoteSettings;
    const next = applySettings(before, params);
    if (
      this.role === "client" && params.some(([id, v]) => id === SettingId.ENABLE_PUSH && v === 1)
    ) {
      throw new Http2ConnectionError(
        ErrorCode.PROTOCOL_ERROR,
        "server sent SETTINGS_ENABLE_PUSH = 1",
      );
    }
    const delta = next.initialWindowSize - before.initialWindowSize;
    if (delta !== 0) {
      // 6.9.2: a new initial window changes every stream's window by the difference.
      for (const s of this.streams.values()) {
        if (s.sendWindow + delta > MAX_WINDOW_SIZE) {
          throw new Http2ConnectionError(
            ErrorCode.FLOW_CONTROL_ERROR,
            "SETTINGS_INITIAL_WINDOW_SIZE makes a stream window exceed 2^31-1",
          );
        }
        s.sendWindow += delta;
      }
    }
    this.remoteSettings = next;
    if (next.headerTableSize !== before.headerTableSize) {
      this.encoder.setPeerMaxTableSize(next.headerTableSize);
    }
    this.emitControl({ type: "settings", ack: true, settings: [] });
    this.events.push({ type: "settings", settings: next });
    if (delta > 0) this.flushAll();
  }

  #onGoaway(lastStreamId: number, code: number, debug: Uint8Array): void {
    this.goawayReceived = lastStreamId;
    this.events.push({
      type: "goaway",
      lastStreamId,
      code,
      debug: String.fromCharCode(...debug.subarray(0, 200)),
    });
    // Our streams above lastStreamId were never processed: safe to retry elsewhere (6.8).
    for (const id of [...this.streams.keys()]) {
      if (!this.peerInitiated(id) && id > lastStreamId) {
        this.close(id, "reset_by_peer");
        this.events.push({
          type: "reset",
          streamId: id,
          code: ErrorCode.REFUSED_STREAM,
          remote: true,
        });
      }
    }
  }

  #onWindowUpdate(id: number, increment: number): void {
    if (id === 0) {
      if (increment === 0) {
        throw new Http2ConnectionError(
          ErrorCode.PROTOCOL_ERROR,
          "WINDOW_UPDATE with an increment of 0",
        );
      }
      if (this.connSendWindow + increment > MAX_WINDOW_SIZE) {
        throw new Http2ConnectionError(
          ErrorCode.FLOW_CONTROL_ERROR,
          "WINDOW_UPDATE makes the connection window exceed 2^31-1",
        );
      }
      this.connSendWindow += increment;
      this.flushAll();
      return;
    }
    if (this.isIdle(id)) {
      throw new Http2ConnectionError(
        ErrorCode.PROTOCOL_ERROR,
        `WINDOW_UPDATE on idle stream ${id}`,
      );
    }
    const stream = this.streams.get(id);
    if (stream === undefined) return; // closed: allowed and ignored (5.1)
    if (increment === 0) {
      throw new Http2StreamError(
        id,
        ErrorCode.PROTOCOL_ERROR,
        "WINDOW_UPDATE with an increment of 0",
      );
    }
    if (stream.sendWindow + increment > MAX_WINDOW_SIZE) {
      throw new Http2StreamError(
        id,
        ErrorCode.FLOW_CONTROL_ERROR,
        "WINDOW_UPDATE makes the stream window exceed 2^31-1",
      );
    }
    stream.sendWindow += increment;
    this.flush(stream);
  }

  #remoteEnded(stream: Stream): void {
    stream.closeRemote();
    if (stream.state === "closed") this.close(stream.id, "ended");
  }
}
