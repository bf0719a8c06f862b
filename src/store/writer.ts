/**
 * The flow store's writer: the database connection that writes, either on this thread (inline:
 * flows are written straight from the live Flow objects, no copy) or on a worker thread. For the
 * worker, the proxy's thread copies each flow's fields (flow_packet.ts; a WebSocket flow's rows)
 * into one buffer per batch (row_batch.ts), which is transferred, not cloned; the worker builds
 * the rows and runs SQLite. Batches go to the worker in order and each gets a reply with the
 * store's new totals and what the budget evicted. Where a worker cannot start (a build without its
 * file), the same requests are applied on this thread instead.
 */
import type { Flow } from "../flow/flow.ts";
import { startModuleWorker } from "../runtime/mod.ts";
import { FlowDb } from "./flow_db.ts";
import { RowBatchEncoder } from "./row_batch.ts";

export type WriterRequest =
  | {
    op: "write";
    /** A RowBatchEncoder's records: `length` bytes of `rows`. */
    rows: ArrayBuffer;
    length: number;
    maxBytes: number;
  }
  | { op: "evict"; maxBytes: number }
  | { op: "remove"; id: string }
  | { op: "clear" };

export interface WriterReply {
  count: number;
  bytes: number;
  dropped: number;
  evicted: { ids: string[]; lastSeq: number };
  removed: boolean;
}

/** A flow to write, as the store hands it over. */
export interface WriteItem {
  seq: number;
  written: boolean;
  flow: Flow;
}

function replyOf(db: FlowDb, evicted: WriterReply["evicted"], removed: boolean): WriterReply {
  return { count: db.count, bytes: db.bytes, dropped: db.dropped, evicted, removed };
}

/** Applies one request to the writing connection (on the worker, or inline). */
export function applyRequest(db: FlowDb, req: WriterRequest): WriterReply {
  let removed = false;
  let evicted = { ids: [] as string[], lastSeq: 0 };
  switch (req.op) {
    case "write":
      db.writeEncoded(new Uint8Array(req.rows, 0, req.length));
      evicted = db.evict(req.maxBytes);
      break;
    case "evict":
      evicted = db.evict(req.maxBytes);
      break;
    case "remove":
      removed = db.remove(req.id);
      break;
    case "clear":
      db.clear();
      break;
  }
  return replyOf(db, evicted, removed);
}

/** Messages to the worker: `open` first, then requests; `close` last. */
export type WorkerMessage =
  | { id: number; op: "open"; path: string; chunkSize: number; durable: boolean }
  | { id: number; op: "close" }
  | { id: number; op: "request"; req: WriterRequest };

/** `rows`: a write's buffer, given back for the next batch. */
export type WorkerAnswer = { id: number; reply?: WriterReply; error?: string; rows?: ArrayBuffer };

interface Waiting {
  message: WorkerMessage;
  resolve(reply: WriterReply | undefined): void;
  reject(e: Error): void;
}

export class StoreWriter {
  readonly #path: string;
  readonly #chunkSize: number;
  readonly #durable: boolean;
  #worker: Worker | null = null;
  #inline: FlowDb | null = null;
  /** For the worker (and the inline fallback after it failed): the batch being built. */
  #encoder: RowBatchEncoder | null = null;
  /** True once the worker answered `open`: from then on it is not replaced. */
  #started = false;
  #nextId = 1;
  readonly #waiting = new Map<number, Waiting>();

  constructor(
    path: string,
    chunkSize: number,
    options: { inline?: boolean; durable?: boolean } = {},
  ) {
    this.#path = path;
    this.#chunkSize = chunkSize;
    const durable = this.#durable = options.durable ?? true;
    if (options.inline) {
      this.#inline = new FlowDb(path, { chunkSize, durable });
      return;
    }
    try {
      // From source this module is src/store/writer.ts; in Bun's executable every module has the
      // bundle's URL and the worker is the entry point src/store/writer_worker.ts beside it.
      const url = import.meta.url.endsWith("/writer.ts")
        ? new URL("./writer_worker.ts", import.meta.url)
        : new URL("./src/store/writer_worker.ts", import.meta.url);
      this.#worker = startModuleWorker(url.href);
    } catch {
      this.#inline = new FlowDb(path, { chunkSize, durable });
      return;
    }
    this.#encoder = new RowBatchEncoder();
    this.#worker.onmessage = (e: MessageEvent<WorkerAnswer>) => this.#answer(e.data);
    this.#worker.onerror = (e: ErrorEvent) => {
      e.preventDefault?.();
      this.#failed(e.message);
    };
    // A failure to open shows in every later request (the file was opened once already).
    this.#send({ id: this.#nextId++, op: "open", path, chunkSize, durable }).catch(() => {});
  }

  /** Where the writes happen, for reports. */
  get mode(): "worker" | "inline" {
    return this.#worker ? "worker" : "inline";
  }

  /**
   * Writes a batch (after what writeNow() took), then evicts past `maxBytes`. The flows are read
   * now, before this returns (a flow changed later is written again at its next update).
   */
  write(batch: WriteItem[], maxBytes: number): Promise<WriterReply> {
    const encoder = this.#encoder;
    if (encoder === null) {
      const db = this.#inline!;
      try {
        db.write(batch);
        return Promise.resolve(replyOf(db, db.evict(maxBytes), false));
      } catch (e) {
        return Promise.reject(e);
      }
    }
    try {
      for (const b of batch) encoder.addFlow(b.seq, b.written, b.flow, this.#chunkSize);
    } catch (e) {
      encoder.take(); // the records before it go too, as a failed inline batch's do
      return Promise.reject(e);
    }
    const { buffer, length } = encoder.take();
    return this.request({ op: "write", rows: buffer, length, maxBytes });
  }

  /**
   * Takes one flow now: inline, it is written in the transaction the next write() commits; for
   * the worker, its rows go into the batch the next write() sends. Either way the flow need not be
   * kept until then. Throws when it fails; the flows taken since the last write() are then lost.
   */
  writeNow(item: WriteItem): void {
    const encoder = this.#encoder;
    if (encoder === null) return this.#inline!.writeOne(item);
    try {
      encoder.addFlow(item.seq, item.written, item.flow, this.#chunkSize);
    } catch (e) {
      encoder.take();
      throw e;
    }
  }

  request(req: WriterRequest): Promise<WriterReply> {
    return this.#send({ id: this.#nextId++, op: "request", req }) as Promise<WriterReply>;
  }

  async close(): Promise<void> {
    if (this.#inline && !this.#encoder) {
      this.#inline.close();
      this.#inline = null;
      return;
    }
    try {
      await this.#send({ id: this.#nextId++, op: "close" });
    } finally {
      this.#worker?.terminate();
      this.#worker = null;
    }
  }

  #send(message: WorkerMessage): Promise<WriterReply | undefined> {
    if (this.#inline) return Promise.resolve(this.#applyInline(message));
    return new Promise((resolve, reject) => {
      this.#waiting.set(message.id, { message, resolve, reject });
      // A batch's buffer is moved to the worker, not copied; until the worker has opened the
      // file it is copied, so that a worker that cannot start leaves it to apply here.
      const rows = message.op === "request" && message.req.op === "write" && this.#started
        ? [message.req.rows]
        : [];
      this.#worker!.postMessage(message, rows);
    });
  }

  #applyInline(message: WorkerMessage): WriterReply | undefined {
    if (message.op === "request") return applyRequest(this.#inline!, message.req);
    if (message.op === "close") this.#inline!.close();
    return undefined;
  }

  #answer(answer: WorkerAnswer): void {
    if (answer.rows) this.#encoder?.recycle(answer.rows);
    const waiting = this.#waiting.get(answer.id);
    if (!waiting) return;
    this.#waiting.delete(answer.id);
    if (waiting.message.op === "open" && answer.error === undefined) this.#started = true;
    if (answer.error !== undefined) waiting.reject(new Error(answer.error));
    else waiting.resolve(answer.reply);
  }

  /**
   * The worker failed. Before it opened the file (its module missing from a build, say), nothing
   * was applied: the same requests are applied here, in order. After, the pending ones fail.
   */
  #failed(reason: string): void {
    const pending = [...this.#waiting.values()];
    this.#waiting.clear();
    this.#worker?.terminate();
    this.#worker = null;
    if (!this.#started) {
      try {
        this.#inline = new FlowDb(this.#path, {
          chunkSize: this.#chunkSize,
          durable: this.#durable,
        });
      } catch (e) {
        for (const w of pending) w.reject(e as Error);
        return;
      }
      for (const w of pending) {
        try {
          w.resolve(this.#applyInline(w.message));
        } catch (e) {
          w.reject(e as Error);
        }
      }
      return;
    }
    for (const w of pending) w.reject(new Error(`the flow store's writer stopped: ${reason}`));
  }
}
