/**
 * Flow ids: 26-character ULIDs (48-bit millisecond time + 80 random bits, Crockford base32), so
 * that ids sort by creation time. Within one millisecond the random part counts up, keeping order.
 */
const ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ";

let lastTime = -1;
const lastRandom = new Uint8Array(10);
/** The time part of lastTime, made once per millisecond (several flows share one). */
let lastPrefix = "";

export function newFlowId(now = Date.now()): string {
  if (now <= lastTime) {
    // Same (or earlier: clock step) millisecond: increment the previous random part.
    for (let i = 9; i >= 0; i--) {
      if (lastRandom[i] === 0xff) lastRandom[i] = 0;
      else {
        lastRandom[i]++;
        break;
      }
    }
  } else {
    crypto.getRandomValues(lastRandom);
    lastTime = now;
    lastPrefix = timePart(now);
  }
  let out = lastPrefix;
  // 80 bits -> 16 base32 digits, 5 bits at a time.
  let acc = 0;
  let bits = 0;
  for (const byte of lastRandom) {
    acc = (acc << 8) | byte;
    bits += 8;
    while (bits >= 5) {
      out += ALPHABET[(acc >> (bits - 5)) & 31];
      bits -= 5;
    }
    acc &= (1 << bits) - 1;
  }
  return out;
}

/** 48-bit milliseconds -> 10 base32 digits, most significant first. */
function timePart(now: number): string {
  let out = "";
  let t = now;
  for (let i = 0; i < 10; i++) {
    out = ALPHABET[t % 32] + out;
    t = Math.floor(t / 32);
  }
  return out;
}
