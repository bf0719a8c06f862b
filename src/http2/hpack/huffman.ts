/**
 * Huffman coding of HPACK string literals (RFC 7541 5.2 and Appendix B). Decoding runs a
 * 4-bits-at-a-time state machine built once from the code table: a state is a node of the code
 * tree, and each nibble moves to another node, emitting at most one symbol (no code is shorter
 * than 5 bits).
 */
import { HpackError } from "../errors.ts";
import { HUFFMAN_CODES, HUFFMAN_LENGTHS } from "./huffman_table.ts";

const EOS = 256;

/** Number of bytes `bytes` take Huffman-coded. */
export function huffmanLength(bytes: Uint8Array): number {
  let bits = 0;
  for (let i = 0; i < bytes.length; i++) bits += HUFFMAN_LENGTHS[bytes[i]];
  return Math.ceil(bits / 8);
}

/** Huffman-codes `bytes`; the last byte is padded with the most significant bits of EOS (ones). */
export function huffmanEncode(bytes: Uint8Array): Uint8Array {
  const out = new Uint8Array(huffmanLength(bytes));
  let o = 0;
  // Pending bits live in `acc` (at most 7 left over + 30 of a code: exact in a double).
  let acc = 0;
  let bits = 0;
  for (let i = 0; i < bytes.length; i++) {
    const len = HUFFMAN_LENGTHS[bytes[i]];
    acc = acc * 2 ** len + HUFFMAN_CODES[bytes[i]];
    bits += len;
    while (bits >= 8) {
      bits -= 8;
      const scale = 2 ** bits;
      const byte = Math.floor(acc / scale);
      out[o++] = byte;
      acc -= byte * scale;
    }
  }
  if (bits > 0) out[o++] = (acc << (8 - bits)) | (0xff >> bits);
  return out;
}

// ---- decoding state machine ----

/** For state s and nibble n, entry s*16+n: next state, symbol emitted (-1: none), flags. */
const NEXT = new Uint16Array(256 * 16);
const EMIT = new Int16Array(256 * 16);
const FAIL = new Uint8Array(256 * 16);
/** States where the input may end: the root or up to 7 one-bits into the tree (EOS's prefix). */
const ACCEPT = new Uint8Array(256);

(function build() {
  // Code tree: internal nodes 0..255 with children; a child >= 256 is the leaf of symbol c-256.
  const left = new Int32Array(256).fill(-1);
  const right = new Int32Array(256).fill(-1);
  let nodes = 1;
  for (let sym = 0; sym <= EOS; sym++) {
    const code = HUFFMAN_CODES[sym];
    const len = HUFFMAN_LENGTHS[sym];
    let node = 0;
    for (let b = len - 1; b >= 0; b--) {
      const side = (code >>> b) & 1 ? right : left;
      if (b === 0) side[node] = 256 + sym;
      else {
        if (side[node] === -1) side[node] = nodes++;
        node = side[node];
      }
    }
  }
  // Which internal nodes lie on the all-ones path within 7 bits of the root.
  let n = 0;
  ACCEPT[0] = 1;
  for (let depth = 1; depth <= 7; depth++) {
    n = right[n];
    ACCEPT[n] = 1;
  }
  for (let state = 0; state < nodes; state++) {
    for (let nib = 0; nib < 16; nib++) {
      const at = state * 16 + nib;
      let node = state;
      let emit = -1;
      let fail = 0;
      for (let b = 3; b >= 0; b--) {
        const child = (nib >> b) & 1 ? right[node] : left[node];
        if (child >= 256) {
          if (child - 256 === EOS) fail = 1; // EOS inside a string is an error (5.2)
          emit = child - 256;
          node = 0;
        } else node = child;
      }
      NEXT[at] = node;
      EMIT[at] = emit;
      FAIL[at] = fail;
    }
  }
})();

/** Decodes a Huffman-coded string literal; errors on EOS, bad padding or over-long padding. */
export function huffmanDecode(data: Uint8Array, maxLength = Infinity): Uint8Array {
  // Every code is at least 5 bits, so the output is at most 8/5 of the input.
  const out = new Uint8Array(Math.ceil((data.length * 8) / 5));
  let o = 0;
  let state = 0;
  for (let i = 0; i < data.length; i++) {
    const byte = data[i];
    for (let half = 0; half < 2; half++) {
      const at = state * 16 + (half === 0 ? byte >> 4 : byte & 0xf);
      if (FAIL[at]) throw new HpackError("Huffman-coded string contains EOS");
      const sym = EMIT[at];
      if (sym >= 0) {
        if (o >= maxLength) throw new HpackError(`header string is longer than ${maxLength} bytes`);
        out[o++] = sym;
      }
      state = NEXT[at];
    }
  }
  if (!ACCEPT[state]) throw new HpackError("Huffman-coded string has invalid padding");
  return out.subarray(0, o);
}
