/**
 * Client replay (-C FILE, `mitm replay FILE`): recorded requests are sent again through the
 * running proxy, as a client would send them, so they pass every addon and are recorded and
 * shown like live flows. At most `concurrency` are in flight; each result is reported when its
 * flow is over.
 *
 * ```ts
 * const results = await clientReplay(proxy, flows, { concurrency: 4, onResult: console.log });
 * ```
 */
import { Replayer } from "../api/replay.ts";
import type { Addon } from "../addons/types.ts";
import type { Flow } from "../flow/flow.ts";
import type { ProxyServer } from "../proxy/server.ts";

export interface ClientReplayResult {
  /** The recorded flow whose request was sent. */
  original: Flow;
  /** The new flow, once over; null when the request could not be sent at all. */
  flow: Flow | null;
  /** Why it failed (no response); null when a response came back. */
  error: string | null;
}

export interface ClientReplayOptions {
  concurrency: number;
  onResult?: (result: ClientReplayResult) => void;
}

/** Replays `flows` in order (up to `concurrency` at once); resolves with every result, in order. */
export async function clientReplay(
  proxy: ProxyServer,
  flows: readonly Flow[],
  options: ClientReplayOptions,
): Promise<ClientReplayResult[]> {
  const replayer = new Replayer();
  replayer.injector = proxy.injector;
  const finished = new WeakSet<Flow>();
  const waiting = new Map<Flow, () => void>();
  const watcher: Addon = {
    name: "client_replay",
    flow_done(flow) {
      finished.add(flow);
      waiting.get(flow)?.();
    },
  };
  await proxy.addons.add(watcher);
  const whenDone = (flow: Flow) =>
    finished.has(flow) ? Promise.resolve() : new Promise<void>((resolve) => {
      waiting.set(flow, () => {
        waiting.delete(flow);
        resolve();
      });
    });

  const results: ClientReplayResult[] = new Array(flows.length);
  let next = 0;
  const worker = async () => {
    while (next < flows.length) {
      const i = next++;
      const original = flows[i];
      let result: ClientReplayResult;
      try {
        const flow = await replayer.replay(original);
        await whenDone(flow);
        const error = flow.response === null || flow.error !== null
          ? flow.error?.message ?? "no response"
          : null;
        result = { original, flow, error };
      } catch (e) {
        result = { original, flow: null, error: (e as Error).message };
      }
      results[i] = result;
      options.onResult?.(result);
    }
  };
  try {
    const n = Math.max(1, Math.min(options.concurrency, flows.length));
    await Promise.all(Array.from({ length: n }, worker));
  } finally {
    await proxy.addons.replace([watcher], []);
  }
  return results;
}
