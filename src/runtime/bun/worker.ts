/**
 * A module worker thread, started with `smol` (a smaller heap, collected sooner): the flow store's
 * writer keeps nothing between batches, and a second heap sized like the main one would cost tens
 * of MB of RSS.
 */
export function startModuleWorker(url: string): Worker {
  return new Worker(url, { type: "module", smol: true } as WorkerOptions);
}
