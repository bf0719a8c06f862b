import type { HeadLimits } from "../http1/mod.ts";
import type { Logger } from "../log.ts";
import type { Options } from "../options.ts";
import type { Address, Network } from "../runtime/types.ts";
import type { OriginPool } from "./origin_pool.ts";

/** What every connection handler shares: settings, the network, the origin pool, the log. */
export interface ProxyContext {
  readonly options: Options;
  readonly network: Network;
  readonly pool: OriginPool;
  readonly log: Logger;
  /** Head size and field count limits for requests and responses. */
  readonly limits: HeadLimits;
  /** Where the proxy listens, to recognise requests addressed to the proxy itself. */
  readonly listen: Address;
  /** The proxy's own URL as clients should configure it (http://127.0.0.1:8080). */
  readonly proxyUrl: string;
}
