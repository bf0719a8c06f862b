/**
 * The flow store's writer thread (see writer.ts): opens the session file and applies the requests
 * it is sent, one at a time, in order.
 */
import { FlowDb } from "./flow_db.ts";
import { applyRequest, type WorkerAnswer, type WorkerMessage } from "./writer.ts";

let db: FlowDb | null = null;
const scope = globalThis as unknown as {
  onmessage: ((e: MessageEvent<WorkerMessage>) => void) | null;
  postMessage(answer: WorkerAnswer, transfer?: Transferable[]): void;
};

scope.onmessage = (e) => {
  const m = e.data;
  try {
    switch (m.op) {
      case "open":
        db = new FlowDb(m.path, { chunkSize: m.chunkSize, durable: m.durable });
        scope.postMessage({ id: m.id });
        break;
      case "close":
        db?.close();
        db = null;
        scope.postMessage({ id: m.id });
        break;
      case "request": {
        const reply = applyRequest(db!, m.req);
        // A write's buffer goes back to be filled again (see RowBatchEncoder.recycle).
        if (m.req.op === "write") {
          scope.postMessage({ id: m.id, reply, rows: m.req.rows }, [m.req.rows]);
        } else scope.postMessage({ id: m.id, reply });
        break;
      }
    }
  } catch (err) {
    scope.postMessage({ id: m.id, error: (err as Error)?.message ?? String(err) });
  }
};
