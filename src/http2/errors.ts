/**
 * The errors of the HTTP/2 codec. Every error the codec raises is an {@link Http2Error}: a
 * connection error (the whole connection ends with GOAWAY), a stream error (RST_STREAM on one
 * stream, RFC 9113 section 5.4.2) or a {@link Http2UsageError} when the caller asks for something
 * the protocol does not allow. Messages are one line meant for people.
 */

/** Error codes of RFC 9113 section 7. */
export const ErrorCode = {
  NO_ERROR: 0x0,
  PROTOCOL_ERROR: 0x1,
  INTERNAL_ERROR: 0x2,
  FLOW_CONTROL_ERROR: 0x3,
  SETTINGS_TIMEOUT: 0x4,
  STREAM_CLOSED: 0x5,
  FRAME_SIZE_ERROR: 0x6,
  REFUSED_STREAM: 0x7,
  CANCEL: 0x8,
  COMPRESSION_ERROR: 0x9,
  CONNECT_ERROR: 0xa,
  ENHANCE_YOUR_CALM: 0xb,
  INADEQUATE_SECURITY: 0xc,
  HTTP_1_1_REQUIRED: 0xd,
} as const;

const NAMES: Record<number, string> = Object.fromEntries(
  Object.entries(ErrorCode).map(([name, code]) => [code, name]),
);

/** The name of an error code ("PROTOCOL_ERROR"), or its hex value when unknown. */
export function errorCodeName(code: number): string {
  return NAMES[code] ?? `0x${code.toString(16)}`;
}

export class Http2Error extends Error {
  /** RFC 9113 error code sent to the peer. */
  readonly code: number;
  constructor(code: number, message: string) {
    super(message);
    this.name = "Http2Error";
    this.code = code;
  }
}

/** Ends the whole connection (GOAWAY with `code`). */
export class Http2ConnectionError extends Http2Error {
  constructor(code: number, message: string) {
    super(code, message);
    this.name = "Http2ConnectionError";
  }
}

/** Ends one stream (RST_STREAM with `code`); the connection goes on. */
export class Http2StreamError extends Http2Error {
  readonly streamId: number;
  constructor(streamId: number, code: number, message: string) {
    super(code, message);
    this.name = "Http2StreamError";
    this.streamId = streamId;
  }
}

/** HPACK decoding failed: always a connection error of type COMPRESSION_ERROR (RFC 9113 4.3). */
export class HpackError extends Http2ConnectionError {
  constructor(message: string, code: number = ErrorCode.COMPRESSION_ERROR) {
    super(code, message);
    this.name = "HpackError";
  }
}

/** The caller asked for something the protocol or the connection's state does not allow. */
export class Http2UsageError extends Http2Error {
  constructor(message: string) {
    super(ErrorCode.INTERNAL_ERROR, message);
    this.name = "Http2UsageError";
  }
}
