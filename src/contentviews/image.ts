/** Images: the format and the size in pixels, read from the header bytes (the web UI shows it). */
import { NotThisFormat, type ViewLine } from "./types.ts";

export interface ImageInfo {
  format: "png" | "jpeg" | "gif" | "webp" | "bmp" | "ico" | "svg";
  width: number | null;
  height: number | null;
}

export function imageInfo(b: Uint8Array): ImageInfo | null {
  const u16 = (i: number) => (b[i] << 8) | b[i + 1];
  const u16le = (i: number) => b[i] | (b[i + 1] << 8);
  const u32 = (i: number) => ((b[i] << 24) >>> 0) + (b[i + 1] << 16) + (b[i + 2] << 8) + b[i + 3];
  if (b.length >= 24 && b[0] === 0x89 && b[1] === 0x50 && b[2] === 0x4e && b[3] === 0x47) {
    return { format: "png", width: u32(16), height: u32(20) };
  }
  if (b.length >= 10 && b[0] === 0x47 && b[1] === 0x49 && b[2] === 0x46) {
    return { format: "gif", width: u16le(6), height: u16le(8) };
  }
  if (b.length >= 4 && b[0] === 0xff && b[1] === 0xd8) {
    // Walk the segments to the first start-of-frame marker.
    let i = 2;
    while (i + 9 < b.length && b[i] === 0xff) {
      const marker = b[i + 1];
      if (
        marker >= 0xc0 && marker <= 0xcf && marker !== 0xc4 && marker !== 0xc8 && marker !== 0xcc
      ) {
        return { format: "jpeg", width: u16(i + 7), height: u16(i + 5) };
      }
      i += 2 + u16(i + 2);
    }
    return { format: "jpeg", width: null, height: null };
  }
  if (
    b.length >= 30 && b[0] === 0x52 && b[1] === 0x49 && b[2] === 0x46 && b[3] === 0x46 &&
    b[8] === 0x57 && b[9] === 0x45 && b[10] === 0x42 && b[11] === 0x50
  ) {
    const chunk = String.fromCharCode(b[12], b[13], b[14], b[15]);
    if (chunk === "VP8X") {
      return {
        format: "webp",
        width: 1 + (b[24] | (b[25] << 8) | (b[26] << 16)),
        height: 1 + (b[27] | (b[28] << 8) | (b[29] << 16)),
      };
    }
    if (chunk === "VP8 ") {
      return { format: "webp", width: u16le(26) & 0x3fff, height: u16le(28) & 0x3fff };
    }
    return { format: "webp", width: null, height: null };
  }
  if (b.length >= 26 && b[0] === 0x42 && b[1] === 0x4d) {
    return { format: "bmp", width: u16le(18), height: Math.abs(u16le(22)) };
  }
  if (b.length >= 6 && b[0] === 0 && b[1] === 0 && b[2] === 1 && b[3] === 0) {
    return { format: "ico", width: b[6] || 256, height: b[7] || 256 };
  }
  const head = new TextDecoder().decode(b.subarray(0, 512));
  if (/<svg[\s>]/i.test(head)) {
    const w = /<svg[^>]*\swidth="(\d+)/i.exec(head);
    const h = /<svg[^>]*\sheight="(\d+)/i.exec(head);
    return { format: "svg", width: w ? Number(w[1]) : null, height: h ? Number(h[1]) : null };
  }
  return null;
}

export function imageView(bytes: Uint8Array): ViewLine[] {
  const info = imageInfo(bytes);
  if (info === null) throw new NotThisFormat("not an image format this view knows");
  const size = info.width !== null ? `${info.width}x${info.height} pixels` : "size unknown";
  return [[{
    text: `${info.format.toUpperCase()} image, ${size}, ${bytes.length} bytes`,
    kind: "meta",
  }]];
}
