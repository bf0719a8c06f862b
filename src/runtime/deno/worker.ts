/** A module worker thread on Deno: the Web's Worker (node/worker.ts). */
export { startModuleWorker } from "../node/worker.ts";
