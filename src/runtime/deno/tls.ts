/**
 * TLS on Deno: node:tls on both ends (node/tls.ts), over a stream adapter on Deno's native
 * sockets. Deno has no server-side TLS handshake on an accepted Deno.Conn (Deno.startTls is
 * client-only, denoland/deno#18451), and Deno.startTls neither skips verification (`-k`) nor shows
 * the peer certificate (upstream certificate sniffing). Deno's node:tls reports no session keys,
 * so key logging is not available here (docs/RUNTIME.md).
 */
export { nodeTls as denoTls } from "../node/tls.ts";
