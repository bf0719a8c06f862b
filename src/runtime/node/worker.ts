/** A module worker thread, as the Web's Worker starts one (Deno; Node has no global Worker). */
export function startModuleWorker(url: string): Worker {
  return new Worker(url, { type: "module" });
}
