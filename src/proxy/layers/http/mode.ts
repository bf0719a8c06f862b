/** How the listener's mode shapes the requests of a connection. */
export type HttpMode =
  /** Requests name their origin (absolute-form, or CONNECT then a tunnel). */
  | { kind: "regular" }
  /** Requests go to the connection's destination (`context.server`), whatever Host says. */
  | { kind: "transparent" }
  /** Requests go to one configured origin; Host is rewritten to it. */
  | { kind: "reverse"; scheme: "http" | "https"; host: string; port: number }
  /** Requests go through another proxy. */
  | { kind: "upstream"; host: string; port: number };
