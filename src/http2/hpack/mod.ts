/** HPACK (RFC 7541): header compression for HTTP/2. */
export * from "./decoder.ts";
export * from "./dynamic_table.ts";
export * from "./encoder.ts";
export * from "./huffman.ts";
export * from "./primitives.ts";
export * from "./static_table.ts";
