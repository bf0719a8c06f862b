/**
 * RFC 6455 section 5.2 frames: the opcodes, masking, and serialising one frame.
 *
 * ```
 *  0                   1                   2                   3
 *  0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
 * +-+-+-+-+-------+-+-------------+-------------------------------+
 * |F|R|R|R| opcode|M| Payload len |    Extended payload length    |
 * |I|S|S|S|  (4)  |A|     (7)     |             (16/64)           |
 * |N|V|V|V|       |S|             |   (if payload len==126/127)   |
 * | |1|2|3|       |K|             |                               |
 * +-+-+-+-+-------+-+-------------+ - - - - - - - - - - - - - - - +
 * |     Extended payload length continued, if payload len == 127  |
 * + - - - - - - - - - - - - - - - +-------------------------------+
 * |                               |Masking-key, if MASK set to 1  |
 * +-------------------------------+-------------------------------+
 * | Masking-key (continued)       |          Payload Data         |
 * ```
 */

export const Opcode = {
  Continuation: 0x0,
  Text: 0x1,
  Binary: 0x2,
  Close: 0x8,
  Ping: 0x9,
  Pong: 0xa,
} as const;

export type OpcodeValue = typeof Opcode[keyof typeof Opcode];

/** Close, ping and pong (opcodes 0x8-0xF): at most 125 bytes and never fragmented (5.5). */
export function isControl(opcode: number): boolean {
  return (opcode & 0x8) !== 0;
}

/** The opcodes RFC 6455 defines; the others are reserved and fail the connection. */
export function isKnownOpcode(opcode: number): opcode is OpcodeValue {
  return opcode <= 0x2 || (opcode >= 0x8 && opcode <= 0xa);
}

/** The largest payload of a control frame (5.5). */
export const MAX_CONTROL_PAYLOAD = 125;

/** One frame as received: the payload unmasked, and the exact bytes it arrived as. */
export interface Frame {
  fin: boolean;
  /** RSV1 marks the first frame of a compressed message under permessage-deflate (RFC 7692). */
  rsv1: boolean;
  rsv2: boolean;
  rsv3: boolean;
  opcode: OpcodeValue;
  /** The 4-byte masking key, or null for an unmasked frame. */
  mask: Uint8Array | null;
  /** Payload with the mask removed. */
  payload: Uint8Array;
  /** The frame's bytes as received (header and still-masked payload): forwarded as they are. */
  raw: Uint8Array;
}

/** What serialising needs; `mask` null sends unmasked (server to client). */
export interface FrameInit {
  fin?: boolean;
  rsv1?: boolean;
  opcode: OpcodeValue;
  payload: Uint8Array;
  mask: Uint8Array | null;
}

/**
 * XORs `data` with the masking key in place (5.3), starting at `offset` into the key's cycle.
 * Masking and unmasking are the same operation.
 */
export function applyMask(data: Uint8Array, mask: Uint8Array, offset = 0): void {
  const n = data.length;
  let i = 0;
  // Bytes up to a 4-byte boundary, then whole words (a frame can be megabytes), then the rest.
  while (i < n && ((data.byteOffset + i) & 3) !== 0) {
    data[i] ^= mask[(i + offset) & 3];
    i++;
  }
  const words = (n - i) >> 2;
  if (words >= 4) {
    const k = (i + offset) & 3;
    const rotated = Uint8Array.of(mask[k], mask[(k + 1) & 3], mask[(k + 2) & 3], mask[(k + 3) & 3]);
    const key = new Uint32Array(rotated.buffer)[0];
    const view = new Uint32Array(data.buffer, data.byteOffset + i, words);
    for (let w = 0; w < words; w++) view[w] ^= key;
    i += words << 2;
  }
  for (; i < n; i++) data[i] ^= mask[(i + offset) & 3];
}

/** Header size for a payload length: 2, +2 for 126..65535, +8 above, +4 with a mask. */
export function headerLength(payloadLength: number, masked: boolean): number {
  const base = payloadLength < 126 ? 2 : payloadLength < 0x10000 ? 4 : 10;
  return masked ? base + 4 : base;
}

/** One frame's bytes. The payload is copied (and masked in the copy), never changed. */
export function encodeFrame(init: FrameInit): Uint8Array {
  const { payload, mask } = init;
  const n = payload.length;
  const head = headerLength(n, mask !== null);
  const out = new Uint8Array(head + n);
  out[0] = ((init.fin ?? true) ? 0x80 : 0) | (init.rsv1 ? 0x40 : 0) | init.opcode;
  const maskBit = mask !== null ? 0x80 : 0;
  let p = 2;
  if (n < 126) out[1] = maskBit | n;
  else if (n < 0x10000) {
    out[1] = maskBit | 126;
    out[2] = n >> 8;
    out[3] = n & 0xff;
    p = 4;
  } else {
    out[1] = maskBit | 127;
    // 64-bit big-endian length; the top bit must stay 0 (lengths here fit in 53 bits).
    const view = new DataView(out.buffer);
    view.setUint32(2, Math.floor(n / 0x100000000));
    view.setUint32(6, n >>> 0);
    p = 10;
  }
  if (mask !== null) {
    out.set(mask.subarray(0, 4), p);
    p += 4;
  }
  out.set(payload, p);
  if (mask !== null) applyMask(out.subarray(p), mask);
  return out;
}

/** A fresh masking key from the platform's CSPRNG (5.3 asks for an unpredictable one). */
export function randomMask(): Uint8Array {
  return crypto.getRandomValues(new Uint8Array(4));
}
