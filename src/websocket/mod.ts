/**
 * WebSocket (RFC 6455) sans-IO: frames, messages, permessage-deflate inspection, the opening
 * handshake, and a per-direction relay for the proxy. Nothing here does I/O.
 */
export * from "./close.ts";
export * from "./extensions.ts";
export * from "./frame.ts";
export * from "./frame_parser.ts";
export * from "./handshake.ts";
export * from "./inflate.ts";
export * from "./message_assembler.ts";
export * from "./relay.ts";
