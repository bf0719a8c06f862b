/**
 * Close frames (RFC 6455 sections 5.5.1 and 7.4): the status codes, parsing a close payload and
 * building one, and the error a protocol violation becomes.
 */

export const CloseCode = {
  Normal: 1000,
  GoingAway: 1001,
  ProtocolError: 1002,
  UnsupportedData: 1003,
  /** Never on the wire: "no status code was present". */
  NoStatus: 1005,
  /** Never on the wire: "the connection closed without a close frame". */
  Abnormal: 1006,
  InvalidPayload: 1007,
  PolicyViolation: 1008,
  MessageTooBig: 1009,
  MandatoryExtension: 1010,
  InternalError: 1011,
} as const;

/**
 * A code a peer may send (7.4.1 and the IANA registry): 1000-1003, 1007-1014, and 3000-4999 for
 * libraries and applications. 1004 is reserved; 1005, 1006 and 1015 must not be sent.
 */
export function isValidCloseCode(code: number): boolean {
  return (code >= 1000 && code <= 1003) || (code >= 1007 && code <= 1014) ||
    (code >= 3000 && code <= 4999);
}

/** The connection must fail with `code` (sent in our close frame) for `reason`. */
export class WebSocketProtocolError extends Error {
  readonly code: number;
  constructor(code: number, reason: string) {
    super(reason);
    this.name = "WebSocketProtocolError";
    this.code = code;
  }
}

const strictUtf8 = new TextDecoder("utf-8", { fatal: true, ignoreBOM: true });
const encoder = new TextEncoder();

/** Decodes UTF-8 or throws WebSocketProtocolError 1007 (8.1: invalid text fails the connection). */
export function decodeUtf8Strict(bytes: Uint8Array, what: string): string {
  try {
    return strictUtf8.decode(bytes);
  } catch {
    throw new WebSocketProtocolError(CloseCode.InvalidPayload, `${what} is not valid UTF-8`);
  }
}

export interface CloseInfo {
  /** 1005 (NoStatus) for an empty payload. */
  code: number;
  reason: string;
}

/** Reads a close payload: empty, or a 2-byte code and a UTF-8 reason. Throws on a bad one. */
export function parseClosePayload(payload: Uint8Array): CloseInfo {
  if (payload.length === 0) return { code: CloseCode.NoStatus, reason: "" };
  if (payload.length === 1) {
    throw new WebSocketProtocolError(CloseCode.ProtocolError, "close frame with a 1-byte payload");
  }
  const code = (payload[0] << 8) | payload[1];
  if (!isValidCloseCode(code)) {
    throw new WebSocketProtocolError(CloseCode.ProtocolError, `invalid close code ${code}`);
  }
  return { code, reason: decodeUtf8Strict(payload.subarray(2), "close reason") };
}

/**
 * A close payload for `code` and `reason`. The reason is cut (at a character boundary) so the
 * payload fits the 125 bytes of a control frame. 1005 gives an empty payload.
 */
export function closePayload(code: number, reason = ""): Uint8Array {
  if (code === CloseCode.NoStatus) return new Uint8Array(0);
  let text = encoder.encode(reason);
  if (text.length > 123) {
    let end = 123;
    while (end > 0 && (text[end] & 0xc0) === 0x80) end--; // not inside a UTF-8 sequence
    text = text.subarray(0, end);
  }
  const out = new Uint8Array(2 + text.length);
  out[0] = code >> 8;
  out[1] = code & 0xff;
  out.set(text, 2);
  return out;
}
