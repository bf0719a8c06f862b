/**
 * The flow store's writer: the database connection that writes, either on this thread (inline,
 * the default: flows are written straight from the live Flow objects, no copy) or on a worker
 * thread, where the proxy's thread spends on each flow only the time to take a snapshot of it
 * (snapshot.ts). Batches go to the worker in order and each gets a reply with the store's new
 * totals and what the budget evicted. Where a worker cannot start (a build without its file), the
 * same requests are applied on this thread instead.
 */
import type { Flow } from "../flow/flow.ts";
import { FlowDb } from "./flow_db.ts";
import { flowFromSnapshot, type FlowSnapshot, snapshotFlow } from "./snapshot.ts";

export type WriterRequest =
  | {
    op: "write";
    batch: { seq: number; written: boolean; snapshot: FlowSnapshot }[];
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
      db.write(req.batch.map((b) => ({
        seq: b.seq,
        written: b.written,
        flow: flowFromSnapshot(b.snapshot),
      })));
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
  | { id: number; op: "open"; path: string; chunkSize: number }
  | { id: number; op: "close" }
  | { id: number; op: "request"; req: WriterRequest };

export type WorkerAnswer = { id: number; reply?: WriterReply; error?: string };

interface Waiting {
  message: WorkerMessage;
  resolve(reply: WriterReply | undefined): void;
  reject(e: Error): void;
}

export class StoreWriter {
  readonly #path: string;
  readonly #chunkSize: number;
  #worker: Worker | null = null;
  #inline: FlowDb | null = null;
  /** True once the worker answered `open`: from then on it is not replaced. */
  #started = false;
  #nextId = 1;
  readonly #waiting = new Map<number, Waiting>();

  constructor(path: string, chunkSize: number, options: { inline?: boolean } = {}) {
    this.#path = path;
    this.#chunkSize = chunkSize;
    if (options.inline) {
      this.#inline = new FlowDb(path, { chunkSize });
      return;
    }
    try {
      // From source this module is src/store/writer.ts; in Bun's executable every module has the
      // bundle's URL and the worker is the entry point src/store/writer_worker.ts beside it.
      const url = import.meta.url.endsWith("/writer.ts")
        ? new URL("./writer_worker.ts", import.meta.url)
        : new URL("./src/store/writer_worker.ts", import.meta.url);
      this.#worker = new Worker(url.href, { type: "module" });
    } catch {
      this.#inline = new FlowDb(path, { chunkSize });
      return;
    }
    this.#worker.onmessage = (e: MessageEvent<WorkerAnswer>) => this.#answer(e.data);
    this.#worker.onerror = (e: ErrorEvent) => {
      e.preventDefault?.();
      this.#failed(e.message);
    };
    // A failure to open shows in every later request (the file was opened once already).
    this.#send({ id: this.#nextId++, op: "open", path, chunkSize }).catch(() => {});
  }

  /** Where the writes happen, for reports. */
  get mode(): "worker" | "inline" {
    return this.#inline ? "inline" : "worker";
  }

  /**
   * Writes a batch, then evicts past `maxBytes`. Inline, the flows are read now, before this
   * returns (a flow changed later is written again at its next update); for the worker they are
   * copied now.
   */
  write(batch: WriteItem[], maxBytes: number): Promise<WriterReply> {
    const db = this.#inline;
    if (db) {
      try {
        db.write(batch);
        return Promise.resolve(replyOf(db, db.evict(maxBytes), false));
      } catch (e) {
        return Promise.reject(e);
      }
    }
    return this.request({
      op: "write",
      batch: batch.map((b) => ({ seq: b.seq, written: b.written, snapshot: snapshotFlow(b.flow) })),
      maxBytes,
    });
  }

  /** True when writeNow() can write a flow at once (the inline writer). */
  get writesNow(): boolean {
    return this.#inline !== null;
  }

  /**
   * Inline only: writes one flow now, in the transaction the next write() commits (nothing is
   * copied and the flow need not be kept until then). Throws when the write fails; the flows
   * written since the last commit are then lost.
   */
  writeNow(item: WriteItem): void {
    this.#inline!.writeOne(item);
  }

  request(req: WriterRequest): Promise<WriterReply> {
    return this.#send({ id: this.#nextId++, op: "request", req }) as Promise<WriterReply>;
  }

  async close(): Promise<void> {
    if (this.#inline) {
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
      this.#worker!.postMessage(message);
    });
  }

  #applyInline(message: WorkerMessage): WriterReply | undefined {
    if (message.op === "request") return applyRequest(this.#inline!, message.req);
    if (message.op === "close") this.#inline!.close();
    return undefined;
  }

  #answer(answer: WorkerAnswer): void {
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
        this.#inline = new FlowDb(this.#path, { chunkSize: this.#chunkSize });
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
