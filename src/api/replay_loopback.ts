/**
 * Replay on the classic proxy core: the request is written to the proxy's own port over a
 * loopback connection, and the new flow is recognised by that connection's local port. The new
 * core takes replays as events instead (src/proxy/injector.ts); this file goes with the classic
 * core.
 */
import type { Addon } from "../addons/types.ts";
import type { Flow } from "../flow/flow.ts";
import type { Address, Conn, Network } from "../runtime/types.ts";
import { ReplayError } from "./replay_error.ts";

/** How long to wait for the proxy to take the replayed request before giving up. */
export const START_TIMEOUT_MS = 10_000;

export class LoopbackReplay {
  readonly #network: Network;
  #proxy: Address | null = null;
  /** Local port of a replay connection -> who waits for the flow it makes. */
  #waiting = new Map<number, (flow: Flow) => void>();

  constructor(network: Network) {
    this.#network = network;
  }

  /** Where the proxy listens (0.0.0.0 and :: are reached through loopback). */
  set proxyAddress(address: Address) {
    const host = address.host === "0.0.0.0"
      ? "127.0.0.1"
      : address.host === "::"
      ? "::1"
      : address.host;
    this.#proxy = { host, port: address.port };
  }

  get ready(): boolean {
    return this.#proxy !== null;
  }

  /** Must run before other addons' requestheaders hooks, so that they see `isReplay`. */
  readonly addon: Addon = {
    name: "replay",
    requestheaders: (flow) => {
      const waiter = this.#waiting.get(flow.client.port);
      if (waiter === undefined || !isLoopback(flow.client.address)) return;
      this.#waiting.delete(flow.client.port);
      flow.isReplay = true;
      waiter(flow);
    },
  };

  /** Opens a connection to the proxy, writes `chunks`, and waits for the flow the proxy makes. */
  async start(chunks: Uint8Array[]): Promise<{ conn: Conn; fresh: Flow }> {
    const conn = await this.#network.connect({ ...this.#proxy!, timeoutMs: START_TIMEOUT_MS });
    let timer: ReturnType<typeof setTimeout> | undefined;
    const started = new Promise<Flow>((resolve, reject) => {
      this.#waiting.set(conn.local.port, resolve);
      timer = setTimeout(
        () => reject(new ReplayError("the proxy did not take the replayed request in time")),
        START_TIMEOUT_MS,
      );
      conn.closed.then(() => reject(new ReplayError("the proxy closed the replay connection")));
    });
    started.catch(() => {}).finally(() => {
      clearTimeout(timer);
      this.#waiting.delete(conn.local.port);
    });
    try {
      await conn.writev(chunks);
    } catch (e) {
      conn.close();
      throw new ReplayError(`could not send the request to the proxy: ${(e as Error).message}`);
    }
    try {
      return { conn, fresh: await started };
    } catch (e) {
      conn.close();
      throw e;
    }
  }
}

/** Reads the answer to the end (the proxy records it on the new flow), then closes. */
export async function drain(conn: Conn, timeoutMs: number): Promise<void> {
  const timer = setTimeout(() => conn.close(), timeoutMs);
  try {
    while ((await conn.read()) !== null);
  } catch {
    // The flow records what went wrong.
  } finally {
    clearTimeout(timer);
    conn.close();
  }
}

export function isLoopback(host: string): boolean {
  return host === "localhost" || host === "::1" || host.startsWith("127.") ||
    host.startsWith("::ffff:127.");
}
