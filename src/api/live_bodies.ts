/**
 * Flows whose event stream (text/event-stream) is still open, so that the API can serve the bytes
 * received so far (Message.bodySoFar, offered by the layered proxy core) and the web UI can show
 * the events live. The store holds a flow's body only once it has ended.
 */
import type { Addon } from "../addons/types.ts";
import type { Flow } from "../flow/flow.ts";

/** More open event streams than this at once are not followed live (their bodies still arrive). */
const MAX_OPEN = 1000;

export class LiveBodies {
  readonly #open = new Map<string, Flow>();

  /** The live flow while its event stream is open, else undefined. */
  get(id: string): Flow | undefined {
    return this.#open.get(id);
  }

  readonly addon: Addon = {
    name: "live-bodies",
    responseheaders: (flow) => {
      const response = flow.response;
      if (response?.bodySoFar == null || this.#open.size >= MAX_OPEN) return;
      const type = (response.headers.get("content-type") ?? "").split(";")[0].trim();
      if (type.toLowerCase() === "text/event-stream") this.#open.set(flow.id, flow);
    },
    error: (flow) => void this.#open.delete(flow.id),
    flow_done: (flow) => void this.#open.delete(flow.id),
  };
}
