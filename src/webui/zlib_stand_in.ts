/**
 * Stands in for node:zlib in the browser bundle (scripts/build_ui.ts). The server decodes bodies
 * before the UI sees them, so only a gzip-compressed gRPC message reaches this, and it says so.
 */
export function gunzipSync(): never {
  throw new Error("gzip-compressed message: not decoded in the browser");
}
const zlib = { gunzipSync };
export default zlib;
