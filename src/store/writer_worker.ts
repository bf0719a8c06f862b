/**
 * The flow store's writer thread (see writer.ts): opens the session file and applies the requests
 * it is sent, one at a time, in order.
 */
import { FlowDb } from "./flow_db.ts";
import { applyRequest, type WorkerAnswer, type WorkerMessage } from "./writer.ts";

let db: FlowDb | null = null;
const scope = globalThis as unknown as {
  onmessage: ((e: MessageEvent<WorkerMessage>) => void) | null;
  postMessage(answer: WorkerAnswer): void;
};

scope.onmessage = (e) => {
  const m = e.data;
  try {
    switch (m.op) {
      case "open":
        db = new FlowDb(m.path, { chunkSize: m.chunkSize });
        scope.postMessage({ id: m.id });
        break;
      case "close":
        db?.close();
        db = null;
        scope.postMessage({ id: m.id });
        break;
      case "request":
        scope.postMessage({ id: m.id, reply: applyRequest(db!, m.req) });
        break;
    }
  } catch (err) {
    scope.postMessage({ id: m.id, error: (err as Error)?.message ?? String(err) });
  }
};
