/**
 * The options GET/PUT /api/options show and change while the proxy runs. Each is read by the
 * proxy when it is used (per connection or per flow), or is applied here when set.
 */
import type { Addon } from "../addons/types.ts";
import { OptionError, type Options, resolveOptions } from "../options.ts";
import { interceptPolicy } from "../proxy/tls_policy.ts";
import type { Interceptor } from "./intercept.ts";
import type { FlowStore } from "./store.ts";

export const RUNTIME_OPTIONS = [
  "intercept",
  "ignore_hosts",
  "allow_hosts",
  "flow_store_max_bytes",
  "stream_large_bodies",
  "ssl_insecure",
  "connect_timeout",
] as const;

export type RuntimeOptionName = (typeof RUNTIME_OPTIONS)[number];

type Policy = ReturnType<typeof interceptPolicy>;

export class RuntimeOptions {
  readonly #options: Options;
  readonly #store: FlowStore;
  readonly #interceptor: Interceptor;
  /** Set once ignore_hosts/allow_hosts change at run time; then it decides at the ClientHello. */
  #policy: Policy | null = null;

  constructor(options: Options, store: FlowStore, interceptor: Interceptor) {
    this.#options = options;
    this.#store = store;
    this.#interceptor = interceptor;
  }

  values(): Record<RuntimeOptionName, unknown> {
    const out = {} as Record<RuntimeOptionName, unknown>;
    for (const name of RUNTIME_OPTIONS) {
      out[name] = name === "intercept" ? this.#interceptor.filter : this.#options[name];
    }
    return out;
  }

  /** Checks every change, then applies them all; throws OptionError (one line) for a bad one. */
  async set(changes: Record<string, unknown>): Promise<void> {
    for (const name of Object.keys(changes)) {
      if (!(RUNTIME_OPTIONS as readonly string[]).includes(name)) {
        throw new OptionError(
          name in this.#options
            ? `option ${name} cannot be changed while running; restart with --set ${name}=...`
            : `unknown option "${name}"`,
        );
      }
    }
    const checked = resolveOptions(changes as Partial<Options>);
    for (const name of Object.keys(changes) as RuntimeOptionName[]) {
      if (name === "intercept") await this.#interceptor.setFilter(checked.intercept);
      else (this.#options as Record<string, unknown>)[name] = checked[name];
    }
    await this.#store.setLimits(this.#options.flow_store_max_bytes);
    if ("ignore_hosts" in changes || "allow_hosts" in changes) {
      this.#policy = interceptPolicy(this.#options.ignore_hosts, this.#options.allow_hosts);
    }
  }

  /**
   * Applies ignore_hosts/allow_hosts changed at run time at each TLS ClientHello. (A startup
   * ignore_hosts entry matching host:port alone passes connections through before that point.)
   */
  readonly addon: Addon = {
    name: "runtime-options",
    tls_clienthello: (data) => {
      if (this.#policy !== null) {
        data.ignoreConnection = !this.#policy(data.host, data.port, data.sni);
      }
    },
  };
}
