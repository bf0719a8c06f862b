/**
 * Flow ids: 26-character ULIDs (48-bit millisecond time + 80 random bits, Crockford base32), so
 * that ids sort by creation time. Within one millisecond the random part counts up, keeping order.
 */
const ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ";

let lastTime = -1;
/** The 80-bit random part as 16 base32 digits (5 bits each, most significant first). */
const digits = new Uint8Array(16);
/** The time part and the first 15 random digits: a flow id is this and one more character. */
let head = "";

export function newFlowId(now = Date.now()): string {
  if (now > lastTime) {
    lastTime = now;
    randomDigits();
    head = timePart(now) + randomHead();
  } else {
    // Same (or earlier: clock step) millisecond: the random part plus one. Only a carry out of
    // the last digit (one call in 32) changes the head; the 80 bits wrap to zero at the top.
    let i = 15;
    while (i >= 0 && digits[i] === 31) digits[i--] = 0;
    if (i >= 0) digits[i]++;
    if (i < 15) head = head.slice(0, 10) + randomHead();
  }
  return head + ALPHABET[digits[15]];
}

function randomDigits(): void {
  const bytes = new Uint8Array(10);
  crypto.getRandomValues(bytes);
  // 80 bits -> 16 base32 digits, 5 bits at a time.
  let acc = 0;
  let bits = 0;
  let d = 0;
  for (const byte of bytes) {
    acc = (acc << 8) | byte;
    bits += 8;
    while (bits >= 5) {
      digits[d++] = (acc >> (bits - 5)) & 31;
      bits -= 5;
    }
    acc &= (1 << bits) - 1;
  }
}

function randomHead(): string {
  let out = "";
  for (let i = 0; i < 15; i++) out += ALPHABET[digits[i]];
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
