/** The sans-IO HTTP/1.1 codec: no sockets, no runtime globals. */
export * from "./body.ts";
export * from "./bytes.ts";
export * from "./chunk_line.ts";
export * from "./errors.ts";
export * from "./framing.ts";
export * from "./head.ts";
export * from "../http/headers.ts";
export * from "./reader.ts";
export * from "./receive_buffer.ts";
export * from "./target.ts";
