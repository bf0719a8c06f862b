/**
 * The state and the sending half of an HTTP/2 connection: output buffer, streams, flow-control
 * windows and the methods a caller sends with. {@link Http2Connection} adds the receiving half.
 */
import { ErrorCode, Http2ConnectionError, Http2UsageError } from "./errors.ts";
import {
  DEFAULT_LIMITS,
  type Http2ConnectionOptions,
  type Http2Event,
  type Http2Limits,
} from "./events.ts";
import {
  dataFrameHeader,
  type Frame,
  FrameReader,
  MIN_MAX_FRAME_SIZE,
  serializeFrame,
} from "./frame.ts";
import { HeaderBlockAssembler } from "./header_block.ts";
import { HpackDecoder } from "./hpack/decoder.ts";
import { type EncoderField, HpackEncoder } from "./hpack/encoder.ts";
import { RecentResets } from "./guards.ts";
import { DEFAULT_SETTINGS, type Settings, settingsParams } from "./settings.ts";
import { Stream } from "./stream.ts";

/** The client connection preface (RFC 9113 3.4). */
export const PREFACE: Uint8Array = Uint8Array.from(
  "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n",
  (c) => c.charCodeAt(0),
);

const EMPTY = new Uint8Array(0);
const MAX_STREAM_ID = 0x7fffffff;

const CONNECTION_SPECIFIC = new Set([
  "connection",
  "proxy-connection",
  "keep-alive",
  "transfer-encoding",
  "upgrade",
]);

/**
 * Header fields as HTTP/2 wants them (RFC 9113 8.2): names lowercased; connection-specific
 * fields are refused rather than silently dropped, since sending them makes the peer reject the
 * whole message.
 */
function outgoingFields(fields: readonly EncoderField[]): readonly EncoderField[] {
  let out: EncoderField[] | null = null;
  for (let i = 0; i < fields.length; i++) {
    const [name, value, sensitive] = fields[i];
    const lower = name.toLowerCase();
    if (CONNECTION_SPECIFIC.has(lower) || (lower === "te" && value !== "trailers")) {
      throw new Http2UsageError(`connection-specific header ${lower} cannot be sent in HTTP/2`);
    }
    if (lower !== name) {
      out ??= fields.slice(0, i);
      out.push(sensitive === undefined ? [lower, value] : [lower, value, sensitive]);
    } else out?.push(fields[i]);
  }
  return out ?? fields;
}

const LOCAL_DEFAULTS: Partial<Settings> = {
  enablePush: false,
  maxConcurrentStreams: 100,
  initialWindowSize: 256 * 1024,
  maxHeaderListSize: 64 * 1024,
};

/** How many closed stream ids are remembered to tell "closed" from "reset by us" (5.1). */
const CLOSED_MEMORY = 256;

type ClosedHow = "reset_by_us" | "reset_by_peer" | "ended";

export abstract class ConnectionCore {
  readonly role: "client" | "server";
  readonly limits: Readonly<Http2Limits>;
  /** Settings we sent (in force for the peer once acknowledged). */
  localSettings: Readonly<Settings>;
  /** The peer's settings, defaults until its SETTINGS arrive. */
  remoteSettings: Readonly<Settings> = DEFAULT_SETTINGS;

  protected readonly reader = new FrameReader();
  protected readonly decoder: HpackDecoder;
  protected readonly encoder: HpackEncoder;
  protected readonly blocks: HeaderBlockAssembler;
  protected readonly resets: RecentResets;
  protected readonly streams = new Map<number, Stream>();
  protected readonly closedStreams = new Map<number, ClosedHow>();

  protected out: Uint8Array[] = [];
  protected outBytes = 0;
  protected queuedControl = 0;
  protected events: Http2Event[] = [];

  protected prefaceLeft: number;
  protected sawPeerSettings = false;
  /** Settings sent and not yet acknowledged, oldest first. */
  protected pendingLocal: Settings[] = [];
  /** Our settings the peer has acknowledged: what it works with. */
  protected ackedLocal: Settings = { ...DEFAULT_SETTINGS };
  protected dead = false;

  protected connSendWindow = 65535;
  protected recvWindow = 65535;
  protected recvOutstanding = 0;
  protected recvUnannounced = 0;
  protected readonly connectionWindow: number;

  protected nextStreamId: number;
  protected lastPeerStreamId = 0;
  protected goawaySent: number | null = null;
  protected goawayReceived: number | null = null;
  protected emptyDataFrames = 0;

  constructor(opts: Http2ConnectionOptions) {
    this.role = opts.role;
    this.limits = { ...DEFAULT_LIMITS, ...opts.limits };
    this.localSettings = { ...DEFAULT_SETTINGS, ...LOCAL_DEFAULTS, ...opts.settings };
    const local = this.localSettings;
    this.reader.maxFrameSize = Math.max(local.maxFrameSize, MIN_MAX_FRAME_SIZE);
    this.decoder = new HpackDecoder({
      maxTableSize: Math.max(local.headerTableSize, DEFAULT_SETTINGS.headerTableSize),
      maxHeaderListSize: local.maxHeaderListSize,
    });
    this.encoder = new HpackEncoder(opts.hpack);
    this.blocks = new HeaderBlockAssembler(this.limits);
    this.resets = new RecentResets(this.limits);
    this.nextStreamId = this.role === "client" ? 1 : 2;
    this.prefaceLeft = this.role === "server" ? PREFACE.length : 0;
    this.connectionWindow = opts.connectionWindowSize ?? 1024 * 1024;

    if (this.role === "client") this.emit(PREFACE);
    this.emitFrame({
      type: "settings",
      ack: false,
      settings: settingsParams(local, DEFAULT_SETTINGS),
    });
    this.pendingLocal.push(local);
    if (this.connectionWindow > 65535) {
      const increment = this.connectionWindow - 65535;
      this.emitFrame({ type: "window_update", streamId: 0, increment });
      this.recvWindow += increment;
    }
  }

  // ---------------------------------------------------------------- output

  /** Bytes waiting to be written to the socket (taken: the next call returns only new ones). */
  dataToSend(): Uint8Array {
    const parts = this.out;
    this.out = [];
    this.queuedControl = 0;
    const n = this.outBytes;
    this.outBytes = 0;
    if (parts.length === 1) return parts[0];
    const out = new Uint8Array(n);
    let o = 0;
    for (const p of parts) {
      out.set(p, o);
      o += p.length;
    }
    return out;
  }

  /**
   * Like {@link dataToSend}, but as the pieces queued (frame headers, payload views): no copy, for
   * a socket that writes several buffers at once (writev, cork).
   */
  takeChunks(): Uint8Array[] {
    const parts = this.out;
    this.out = [];
    this.queuedControl = 0;
    this.outBytes = 0;
    return parts;
  }

  /** Number of bytes `dataToSend` would return. */
  get bufferedOutput(): number {
    return this.outBytes;
  }

  /** True once a connection error ended the connection, or GOAWAY was exchanged and it drained. */
  get closed(): boolean {
    if (this.dead) return true;
    // A GOAWAY announcing 2^31-1 still accepts streams: not draining yet.
    const draining = (this.goawaySent !== null && this.goawaySent < MAX_STREAM_ID) ||
      this.goawayReceived !== null;
    return draining && this.streams.size === 0;
  }

  protected emit(bytes: Uint8Array): void {
    this.out.push(bytes);
    this.outBytes += bytes.length;
  }

  protected emitFrame(f: Frame): void {
    this.emit(serializeFrame(f));
  }

  /** A reply the peer's frames forced on us: capped, since a peer that floods us with frames
   * needing replies while not reading ours would grow this queue without bound. */
  protected emitControl(f: Frame): void {
    this.emitFrame(f);
    if (++this.queuedControl > this.limits.maxQueuedControlFrames) {
      throw new Http2ConnectionError(
        ErrorCode.ENHANCE_YOUR_CALM,
        `more than ${this.limits.maxQueuedControlFrames} replies (SETTINGS/PING ACKs, resets) queued unsent`,
      );
    }
  }

  /** Whether `id` names a stream the peer may open. */
  protected peerInitiated(id: number): boolean {
    return (id % 2 === 1) === (this.role === "server");
  }

  /** Whether `id` is a stream still "idle" (never opened by either side, 5.1). */
  protected isIdle(id: number): boolean {
    return this.peerInitiated(id) ? id > this.lastPeerStreamId : id >= this.nextStreamId;
  }

  protected close(id: number, how: ClosedHow): void {
    const stream = this.streams.get(id);
    if (stream !== undefined) {
      stream.state = "closed";
      this.streams.delete(id);
      // A reset stream's unread bytes will not be consumed: give them back to the connection
      // window now (later acknowledgements for this stream are ignored).
      if (how !== "ended") this.creditConnection(stream.recvOutstanding);
    }
    this.closedStreams.set(id, how);
    if (this.closedStreams.size > CLOSED_MEMORY) {
      this.closedStreams.delete(this.closedStreams.keys().next().value!);
    }
  }

  // ---------------------------------------------------------------- flow control

  /**
   * The caller consumed `n` bytes of DATA received on `streamId`: the windows reopen by that much.
   * WINDOW_UPDATEs go out once half a window is owed, not for every few bytes.
   */
  acknowledgeData(streamId: number, n: number): void {
    if (this.dead || n <= 0) return;
    const stream = this.streams.get(streamId);
    if (stream === undefined && this.closedStreams.get(streamId)?.startsWith("reset")) return;
    if (stream !== undefined) {
      const take = Math.min(n, stream.recvOutstanding);
      stream.recvOutstanding -= take;
      if (stream.canReceive) {
        stream.recvUnannounced += take;
        // Half of the window the peer works with (the acknowledged one): a larger target could
        // wait for bytes the peer has no window to send.
        const target = this.ackedLocal.initialWindowSize;
        if (stream.recvUnannounced >= target / 2 && stream.recvUnannounced > 0) {
          this.emitFrame({ type: "window_update", streamId, increment: stream.recvUnannounced });
          stream.recvWindow += stream.recvUnannounced;
          stream.recvUnannounced = 0;
        }
      }
    }
    this.creditConnection(n);
  }

  protected creditConnection(n: number): void {
    const take = Math.min(n, this.recvOutstanding);
    this.recvOutstanding -= take;
    this.recvUnannounced += take;
    if (this.recvUnannounced >= this.connectionWindow / 2 && this.recvUnannounced > 0) {
      this.emitFrame({ type: "window_update", streamId: 0, increment: this.recvUnannounced });
      this.recvWindow += this.recvUnannounced;
      this.recvUnannounced = 0;
    }
  }

  /** Bytes of DATA that may be sent on `streamId` right now (both windows, 6.9.1). */
  sendWindow(streamId: number): number {
    const stream = this.streams.get(streamId);
    if (stream === undefined) return 0;
    return Math.max(0, Math.min(stream.sendWindow, this.connSendWindow));
  }

  /** Bytes queued by `sendData` on `streamId` and not yet framed. */
  queuedBytes(streamId: number): number {
    return this.streams.get(streamId)?.queuedBytes ?? 0;
  }

  /** Streams with data queued but no window to send it: stalled until the peer opens windows. */
  stalledStreams(): number[] {
    const out: number[] = [];
    for (const s of this.streams.values()) {
      if (s.queuedBytes > 0 && Math.min(s.sendWindow, this.connSendWindow) <= 0) out.push(s.id);
    }
    return out;
  }

  /** Streams currently open (not closed), whoever opened them. */
  get activeStreams(): number {
    return this.streams.size;
  }

  // ---------------------------------------------------------------- sending

  /** Client role: opens a stream with a request's header list; returns its id. */
  request(fields: readonly EncoderField[], endStream: boolean): number {
    if (this.role !== "client") throw new Http2UsageError("only a client sends requests");
    this.checkUsable();
    if (this.goawayReceived !== null) {
      throw new Http2UsageError("the server sent GOAWAY: no new streams on this connection");
    }
    if (!this.canOpenStream) {
      throw new Http2UsageError(
        `the server allows ${this.remoteSettings.maxConcurrentStreams} concurrent streams`,
      );
    }
    const id = this.nextStreamId;
    if (id > 0x7fffffff) {
      throw new Http2UsageError("stream ids are exhausted: open a new connection");
    }
    // Headers first: a usage error there must leave no half-made stream behind.
    this.sendHeaderBlock(id, fields, endStream);
    this.nextStreamId += 2;
    const stream = new Stream(
      id,
      this.remoteSettings.initialWindowSize,
      this.ackedLocal.initialWindowSize,
    );
    this.streams.set(id, stream);
    if (endStream) stream.closeLocal();
    return id;
  }

  /** Whether `request` may open another stream under the server's concurrency limit. */
  get canOpenStream(): boolean {
    let active = 0;
    for (const s of this.streams.values()) if (!this.peerInitiated(s.id)) active++;
    return active < this.remoteSettings.maxConcurrentStreams && this.goawayReceived === null &&
      !this.dead;
  }

  /** Sends a header list on an open stream: a response (server) or any informational head. */
  sendHeaders(streamId: number, fields: readonly EncoderField[], endStream: boolean): void {
    this.checkUsable();
    const stream = this.sendable(streamId);
    if (stream.queuedBytes > 0) {
      throw new Http2UsageError("headers sent while DATA is still queued");
    }
    this.sendHeaderBlock(streamId, fields, endStream);
    if (endStream) this.localEnded(stream);
  }

  /**
   * Queues body bytes; as much as the windows allow goes into frames now, the rest when the peer
   * opens its windows. Returns the bytes still queued for the stream (0: all framed).
   */
  sendData(streamId: number, data: Uint8Array, endStream = false): number {
    this.checkUsable();
    const stream = this.sendable(streamId);
    if (data.length > 0) {
      stream.queue.push(data);
      stream.queuedBytes += data.length;
    }
    if (endStream) stream.endQueued = true;
    this.flush(stream, false);
    return stream.queuedBytes;
  }

  /** Ends the stream with trailers, after any queued DATA. */
  sendTrailers(streamId: number, fields: readonly EncoderField[]): void {
    this.checkUsable();
    const stream = this.sendable(streamId);
    stream.trailersQueued = this.checkedFields(fields).slice();
    stream.endQueued = true;
    this.flush(stream, false);
  }

  /** Resets a stream (RST_STREAM); queued data is dropped. */
  reset(streamId: number, code: number = ErrorCode.CANCEL): void {
    if (this.dead) return;
    if (!this.streams.has(streamId)) return;
    this.emitFrame({ type: "rst_stream", streamId, code });
    this.close(streamId, "reset_by_us");
  }

  /** Sends a PING; the answer arrives as a "pingAck" event. */
  ping(data: Uint8Array = new Uint8Array(8)): void {
    this.checkUsable();
    if (data.length !== 8) throw new Http2UsageError("PING data is 8 bytes");
    this.emitFrame({ type: "ping", ack: false, data });
  }

  /**
   * Sends GOAWAY: no stream above `lastStreamId` (default: the last one the peer opened) will be
   * processed. With NO_ERROR the open streams go on and the connection drains (`closed` turns
   * true when they are done). For the graceful shutdown of RFC 9113 6.8, first send one with
   * lastStreamId 2^31-1 (streams keep being accepted), then, a round trip later, a plain one.
   */
  goAway(
    code: number = ErrorCode.NO_ERROR,
    debug = "",
    lastStreamId: number = this.lastPeerStreamId,
  ): void {
    if (this.dead) return;
    // A later GOAWAY may lower the last stream id, never raise it (6.8).
    const last = Math.min(lastStreamId, this.goawaySent ?? MAX_STREAM_ID);
    this.goawaySent = last;
    const bytes = Uint8Array.from(debug.slice(0, 200), (c) => c.charCodeAt(0) & 0xff);
    this.emitFrame({ type: "goaway", lastStreamId: last, code, debug: bytes });
    if (code !== ErrorCode.NO_ERROR) this.dead = true;
  }

  /** Changes some of our settings (sent now; in force once the peer acknowledges them). */
  updateSettings(settings: Partial<Settings>): void {
    this.checkUsable();
    const next = { ...this.localSettings, ...settings };
    const params = settingsParams(settings, this.localSettings);
    this.localSettings = next;
    this.decoder.maxHeaderListSize = next.maxHeaderListSize;
    this.reader.maxFrameSize = Math.max(next.maxFrameSize, MIN_MAX_FRAME_SIZE);
    this.emitFrame({ type: "settings", ack: false, settings: params });
    this.pendingLocal.push(next);
  }

  protected checkUsable(): void {
    if (this.dead) throw new Http2UsageError("the connection has ended");
  }

  protected sendable(streamId: number): Stream {
    const stream = this.streams.get(streamId);
    if (stream === undefined) throw new Http2UsageError(`stream ${streamId} is not open`);
    if (!stream.canSend) throw new Http2UsageError(`stream ${streamId} is closed for sending`);
    return stream;
  }

  /** Outgoing fields normalized, within the peer's SETTINGS_MAX_HEADER_LIST_SIZE. */
  protected checkedFields(given: readonly EncoderField[]): readonly EncoderField[] {
    const fields = outgoingFields(given);
    const limit = this.remoteSettings.maxHeaderListSize;
    if (limit !== Infinity) {
      let size = 0;
      for (const [n, v] of fields) size += n.length + v.length + 32;
      if (size > limit) {
        throw new Http2UsageError(
          `header list of ${size} bytes exceeds the peer's limit of ${limit}`,
        );
      }
    }
    return fields;
  }

  protected sendHeaderBlock(
    streamId: number,
    given: readonly EncoderField[],
    endStream: boolean,
  ): void {
    const fields = this.checkedFields(given);
    const block = this.encoder.encode(fields);
    const max = this.remoteSettings.maxFrameSize;
    let offset = Math.min(max, block.length);
    this.emitFrame({
      type: "headers",
      streamId,
      block: block.subarray(0, offset),
      endStream,
      endHeaders: offset === block.length,
    });
    while (offset < block.length) {
      const end = Math.min(offset + max, block.length);
      this.emitFrame({
        type: "continuation",
        streamId,
        block: block.subarray(offset, end),
        endHeaders: end === block.length,
      });
      offset = end;
    }
  }

  protected localEnded(stream: Stream): void {
    stream.closeLocal();
    if (stream.state === "closed") this.close(stream.id, "ended");
  }

  /**
   * Frames what the windows allow of a stream's queue, then END_STREAM or trailers once it is
   * empty. `notify`: report a queue that this emptied (not when the caller's own call did).
   */
  protected flush(stream: Stream, notify = true): void {
    const hadQueue = stream.queuedBytes > 0;
    const maxFrame = this.remoteSettings.maxFrameSize;
    while (stream.queuedBytes > 0) {
      const room = Math.min(stream.sendWindow, this.connSendWindow, maxFrame);
      if (room <= 0) return; // stalled: WINDOW_UPDATE will resume it
      const head = stream.queue[0];
      const chunk = head.length <= room ? head : head.subarray(0, room);
      if (chunk === head) stream.queue.shift();
      else stream.queue[0] = head.subarray(room);
      stream.queuedBytes -= chunk.length;
      stream.sendWindow -= chunk.length;
      this.connSendWindow -= chunk.length;
      const endsHere = stream.queuedBytes === 0 && stream.endQueued &&
        stream.trailersQueued === null;
      // The frame header and a view of the caller's bytes: no copy until dataToSend.
      this.emit(dataFrameHeader(stream.id, chunk.length, endsHere));
      this.emit(chunk);
      if (endsHere) {
        stream.endQueued = false;
        this.localEnded(stream);
      }
    }
    if (stream.endQueued) {
      stream.endQueued = false;
      const trailers = stream.trailersQueued;
      stream.trailersQueued = null;
      if (trailers !== null) this.sendHeaderBlock(stream.id, trailers, true);
      else {
        this.emitFrame({ type: "data", streamId: stream.id, data: EMPTY, endStream: true });
      }
      this.localEnded(stream);
    }
    if (notify && hadQueue) this.events.push({ type: "drained", streamId: stream.id });
  }

  protected flushAll(): void {
    for (const s of [...this.streams.values()]) {
      if (s.queuedBytes > 0 || s.endQueued) this.flush(s);
    }
  }
}
