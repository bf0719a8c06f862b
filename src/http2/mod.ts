/** The sans-IO HTTP/2 codec: no sockets, no timers, no runtime globals. */
export * from "./connection.ts";
export { PREFACE } from "./connection_core.ts";
export * from "./errors.ts";
export * from "./events.ts";
export * from "./fields.ts";
export * from "./frame.ts";
export * from "./hpack/mod.ts";
export * from "./settings.ts";
export * from "./stream.ts";
