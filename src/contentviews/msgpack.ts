/**
 * MessagePack, decoded and shown as pretty JSON: integers keep every digit (64-bit ones as
 * written), binary values as hex strings, extension types as {"ext": type, "hex": ...}, and the
 * timestamp extension (-1) as an ISO date.
 */
import { jsonView } from "./json_view.ts";
import { NotThisFormat, type ViewLine } from "./types.ts";

const MAX_DEPTH = 64;

/** Decodes one MessagePack value into JSON text (with exact integers). */
export function msgpackToJson(bytes: Uint8Array): string {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let pos = 0;
  const need = (n: number) => {
    if (pos + n > bytes.length) throw new NotThisFormat("truncated MessagePack");
  };
  const u8 = () => (need(1), bytes[pos++]);
  const take = (n: number) => {
    need(n);
    const out = bytes.subarray(pos, pos + n);
    pos += n;
    return out;
  };
  const len = (size: 1 | 2 | 4) => {
    need(size);
    const v = size === 1
      ? view.getUint8(pos)
      : size === 2
      ? view.getUint16(pos)
      : view.getUint32(pos);
    pos += size;
    return v;
  };
  const str = (n: number) => {
    try {
      return JSON.stringify(new TextDecoder("utf-8", { fatal: true }).decode(take(n)));
    } catch {
      throw new NotThisFormat("a string that is not UTF-8");
    }
  };
  const hex = (b: Uint8Array) => [...b].map((x) => x.toString(16).padStart(2, "0")).join("");
  const ext = (n: number) => {
    const type = view.getInt8((need(1), pos++));
    const data = take(n);
    if (type === -1 && (n === 4 || n === 8 || n === 12)) {
      const dv = new DataView(data.buffer, data.byteOffset, n);
      const seconds = n === 4
        ? dv.getUint32(0)
        : n === 8
        ? Number(dv.getBigUint64(0) & 0x3ffffffffn)
        : Number(dv.getBigInt64(4));
      return JSON.stringify(new Date(seconds * 1000).toISOString());
    }
    return `{"ext": ${type}, "hex": "${hex(data)}"}`;
  };
  const value = (depth: number): string => {
    if (depth > MAX_DEPTH) throw new NotThisFormat("nested too deep");
    const b = u8();
    if (b <= 0x7f) return String(b);
    if (b >= 0xe0) return String(b - 0x100);
    if ((b & 0xf0) === 0x80) return map(b & 0x0f, depth);
    if ((b & 0xf0) === 0x90) return array(b & 0x0f, depth);
    if ((b & 0xe0) === 0xa0) return str(b & 0x1f);
    need(0);
    switch (b) {
      case 0xc0:
        return "null";
      case 0xc2:
        return "false";
      case 0xc3:
        return "true";
      case 0xc4:
      case 0xc5:
      case 0xc6:
        return `"${hex(take(len(b === 0xc4 ? 1 : b === 0xc5 ? 2 : 4)))}"`;
      case 0xc7:
      case 0xc8:
      case 0xc9:
        return ext(len(b === 0xc7 ? 1 : b === 0xc8 ? 2 : 4));
      case 0xca:
        need(4);
        return numberText(view.getFloat32((pos += 4) - 4));
      case 0xcb:
        need(8);
        return numberText(view.getFloat64((pos += 8) - 8));
      case 0xcc:
        return String(len(1));
      case 0xcd:
        return String(len(2));
      case 0xce:
        return String(len(4));
      case 0xcf:
        need(8);
        return String(view.getBigUint64((pos += 8) - 8));
      case 0xd0:
        need(1);
        return String(view.getInt8((pos += 1) - 1));
      case 0xd1:
        need(2);
        return String(view.getInt16((pos += 2) - 2));
      case 0xd2:
        need(4);
        return String(view.getInt32((pos += 4) - 4));
      case 0xd3:
        need(8);
        return String(view.getBigInt64((pos += 8) - 8));
      case 0xd4:
      case 0xd5:
      case 0xd6:
      case 0xd7:
      case 0xd8:
        return ext(1 << (b - 0xd4));
      case 0xd9:
      case 0xda:
      case 0xdb:
        return str(len(b === 0xd9 ? 1 : b === 0xda ? 2 : 4));
      case 0xdc:
      case 0xdd:
        return array(len(b === 0xdc ? 2 : 4), depth);
      case 0xde:
      case 0xdf:
        return map(len(b === 0xde ? 2 : 4), depth);
    }
    throw new NotThisFormat(`byte 0x${b.toString(16)} is not a MessagePack type`);
  };
  const array = (n: number, depth: number) => {
    if (n > bytes.length - pos) throw new NotThisFormat("array longer than the body");
    const items: string[] = [];
    for (let i = 0; i < n; i++) items.push(value(depth + 1));
    return `[${items.join(",")}]`;
  };
  const map = (n: number, depth: number) => {
    if (n > bytes.length - pos) throw new NotThisFormat("map longer than the body");
    const items: string[] = [];
    for (let i = 0; i < n; i++) {
      const k = value(depth + 1);
      items.push(`${k.startsWith('"') ? k : JSON.stringify(k)}:${value(depth + 1)}`);
    }
    return `{${items.join(",")}}`;
  };
  const out = value(0);
  if (pos !== bytes.length) throw new NotThisFormat(`${bytes.length - pos} bytes after the value`);
  return out;
}

function numberText(n: number): string {
  return Number.isFinite(n) ? String(n) : JSON.stringify(String(n));
}

export function msgpackView(bytes: Uint8Array): ViewLine[] {
  return jsonView(msgpackToJson(bytes));
}
