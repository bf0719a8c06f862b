/**
 * The RequestInjector (injector.ts): each injected request gets a driver without a
 * client connection whose HTTP layer takes the request as a MessageInjected event; a replayed
 * WebSocket gets a driver whose client connection is an in-memory pipe. Either way the listener's
 * services (hooks, TLS verification, the origin pool) and mode (an upstream proxy) apply.
 */
import type { Flow } from "../flow/flow.ts";
import { MemoryConn } from "../runtime/shared/memory.ts";
import type { Conn } from "../runtime/types.ts";
import { Client } from "./core/connection.ts";
import { Context, type LayerOptions } from "./core/context.ts";
import { MessageInjected } from "./core/events.ts";
import type { Layer } from "./core/layer.ts";
import { Driver } from "./driver/driver.ts";
import type { DriverServices } from "./driver/services.ts";
import type { RequestInjector } from "./injector.ts";
import { RegularMode, UpstreamMode } from "./layers/modes.ts";
import type { ModeSpec } from "./modes/spec.ts";

/** The hooks an injected request's driver is followed by (see `watch`). */
const WATCHED_HOOKS = new Set(["requestheaders", "flow_done"]);

/** Where injected requests seem to come from, in logs. */
const INSIDE = { host: "replay", port: 0 };

export interface InjectorParts {
  services: DriverServices;
  /** The listener's layer options, as a new client connection would get them now. */
  options: () => LayerOptions;
  mode: ModeSpec;
  /** The listener's drivers: shutting down ends injected ones too. */
  drivers: Set<Driver>;
  isClosing: () => boolean;
}

export function layeredInjector(parts: InjectorParts): RequestInjector {
  /** A driver for one injected request or connection; `watch` sees every hook call first. */
  const start = (
    conn: Conn | null,
    client: Client,
    watch: (name: string, data: unknown) => void,
  ) => {
    const base = parts.services;
    const services: DriverServices = {
      ...base,
      hook(name, data) {
        watch(name, data);
        return base.hook(name, data);
      },
    };
    // No client waits between requests, and none needs to authenticate: the proxy asks itself.
    // The hooks `watch` needs run even when no addon implements them.
    const listened = parts.options().hookListened;
    const options: LayerOptions = {
      ...parts.options(),
      proxyAuth: null,
      idleTimeoutMs: conn === null ? Infinity : parts.options().idleTimeoutMs,
      hookListened: (name) => WATCHED_HOOKS.has(name) || (listened?.(name) ?? true),
    };
    const driver = new Driver(
      rootLayer(parts.mode, new Context(client, options)),
      client,
      conn,
      services,
    );
    parts.drivers.add(driver);
    const done = driver.run().finally(() => parts.drivers.delete(driver));
    return { driver, done };
  };

  return {
    request(flow: Flow): Promise<Flow> {
      if (parts.isClosing()) return Promise.reject(new Error("the proxy is shutting down"));
      return new Promise((resolve, reject) => {
        const client = new Client(INSIDE, INSIDE);
        const { driver, done } = start(null, client, (name, data) => {
          if (data !== flow) return;
          if (name === "requestheaders") resolve(flow);
          // Over: the driver ends once this hook's answer has been handled.
          if (name === "flow_done") setTimeout(() => driver.finish(), 0);
        });
        done.then(() => reject(new Error("the proxy ended the request before sending it")));
        driver.inject(new MessageInjected("request", { flow }));
      });
    },

    connection() {
      const [mine, theirs] = MemoryConn.pair(INSIDE, INSIDE);
      if (parts.isClosing()) {
        mine.close();
        return { conn: mine, flow: Promise.reject(new Error("the proxy is shutting down")) };
      }
      const client = new Client(INSIDE, INSIDE);
      let first: Flow | null = null;
      const flow = new Promise<Flow>((resolve, reject) => {
        const { done } = start(theirs, client, (name, data) => {
          if (name !== "requestheaders" || first !== null) return;
          first = data as Flow;
          // Before any addon sees it: they may treat replays differently.
          first.isReplay = true;
          resolve(first);
        });
        done.then(() => reject(new Error("the proxy closed the replay connection")));
      });
      return { conn: mine, flow };
    },
  };
}

/** Injected requests go where the listener sends requests: to origins, or an upstream proxy. */
function rootLayer(mode: ModeSpec, context: Context): Layer {
  return mode.kind === "upstream"
    ? new UpstreamMode(context, { host: mode.host, port: mode.port })
    : new RegularMode(context);
}
