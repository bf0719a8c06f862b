/** A hex dump, 16 bytes a line: offset, bytes, and the printable ASCII beside them. */
export function hexLines(bytes: Uint8Array, maxBytes = 64 * 1024): string[] {
  const lines: string[] = [];
  const n = Math.min(bytes.length, maxBytes);
  for (let off = 0; off < n; off += 16) {
    let hex = "";
    let ascii = "";
    for (let i = 0; i < 16; i++) {
      if (off + i < n) {
        const b = bytes[off + i];
        hex += b.toString(16).padStart(2, "0") + (i === 7 ? "  " : " ");
        ascii += b >= 0x20 && b < 0x7f ? String.fromCharCode(b) : ".";
      } else {
        hex += i === 7 ? "    " : "   ";
      }
    }
    lines.push(`${off.toString(16).padStart(8, "0")}  ${hex} ${ascii}`);
  }
  if (bytes.length > n) lines.push(`[... ${bytes.length - n} more bytes]`);
  return lines;
}
