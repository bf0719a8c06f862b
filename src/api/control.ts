/**
 * Everything the API controls on a running proxy: the flow store, interception, replay, the
 * run-time options and the open event streams, wired to the proxy through addons.
 */
import type { Addon } from "../addons/types.ts";
import type { ProxyServer } from "../proxy/server.ts";
import { EventLog } from "./event_log.ts";
import { EventStreams } from "./events.ts";
import { Interceptor } from "./intercept.ts";
import { LiveBodies } from "./live_bodies.ts";
import { Replayer } from "./replay.ts";
import { RuleSet } from "./rules.ts";
import { RuntimeOptions } from "./runtime_options.ts";
import { FlowStore } from "./store.ts";

/** The parts of a ProxyServer the control layer uses. */
export type ControlledProxy =
  & Pick<ProxyServer, "addons" | "options" | "address" | "ca">
  & Partial<Pick<ProxyServer, "injector">>;

export class Control {
  readonly proxy: ControlledProxy;
  readonly store: FlowStore;
  readonly interceptor: Interceptor;
  readonly replayer: Replayer;
  readonly options: RuntimeOptions;
  readonly streams: EventStreams;
  readonly rules: RuleSet;
  /** Recent log lines for the UI's event log (empty unless the logger writes to it). */
  readonly eventLog: EventLog;
  /** Open event streams, whose bytes so far the API serves. */
  readonly liveBodies = new LiveBodies();

  private constructor(
    proxy: ControlledProxy,
    eventLog: EventLog,
    store?: FlowStore,
  ) {
    this.proxy = proxy;
    this.eventLog = eventLog;
    const o = proxy.options;
    this.store = store ?? new FlowStore({
      file: o.save_session || undefined,
      maxBytes: o.flow_store_max_bytes,
      chunkSize: o.stream_large_bodies,
      inlineWriter: o.flow_store_writer === "inline",
    });
    this.interceptor = new Interceptor(proxy.addons, (flow) => this.store.update(flow));
    this.replayer = new Replayer();
    this.replayer.injector = proxy.injector ?? null;
    this.options = new RuntimeOptions(o, this.store, this.interceptor);
    this.streams = new EventStreams(this.store, this.interceptor);
    this.rules = new RuleSet(proxy.addons, o, this.interceptor);
  }

  /**
   * Adds the store, live-body and option addons to the proxy, and the intercept filter if set. The
   * store is `given.store` when given (a session opened by the caller), else one from the options;
   * `given.eventLog` holds the log lines the UI's event log shows.
   */
  static async attach(
    proxy: ControlledProxy,
    given: { store?: FlowStore; eventLog?: EventLog } = {},
  ): Promise<Control> {
    const control = new Control(proxy, given.eventLog ?? new EventLog(), given.store);
    const store = control.store;
    const live = control.liveBodies.addon;
    // One addon for the store and the live event streams: each addon a hook goes through costs
    // the proxy a snapshot of the flow and an await, for every flow.
    const storeAddon: Addon = {
      name: "flow-store",
      // It records and shows flows, never changes them: the proxy does not wait for it.
      readOnly: true,
      requestheaders: (flow) => store.add(flow),
      responseheaders: (flow) => {
        store.update(flow);
        void live.responseheaders?.(flow);
      },
      error: (flow) => {
        // Added if new: a failed CONNECT or TLS handshake is a flow that had no requestheaders.
        store.add(flow);
        void live.error?.(flow);
      },
      flow_done: (flow) => {
        // Written now (inline writer): the flow need not wait in memory for the next batch.
        store.finish(flow);
        void live.flow_done?.(flow);
      },
      // Each WebSocket message: open UIs see the conversation live, not only once it has ended.
      websocket_message: (flow) => store.touch(flow),
    };
    await proxy.addons.add(storeAddon, control.options.addon);
    await control.interceptor.setFilter(proxy.options.intercept);
    return control;
  }

  /**
   * Releases paused flows (killing them), ends event streams and closes the store (a temporary one
   * is deleted); call before proxy.close().
   */
  async close(): Promise<void> {
    this.streams.closeAll();
    this.eventLog.closeAll();
    await this.interceptor.close();
    await this.store.close();
  }
}
