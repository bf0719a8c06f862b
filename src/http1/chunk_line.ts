/**
 * The chunk-size line of a chunked body (RFC 9112 section 7.1), checked byte by byte as it
 * arrives: a line that can no longer become valid is refused at its first bad byte, not when (or
 * if) its LF comes, so a peer cannot leave the proxy waiting on a line that is already wrong.
 *
 * Requests get the strict grammar, without the optional whitespace (BWS) RFC 9112 allows:
 *   chunk-size *( ";" token [ "=" ( token / quoted-string ) ] ) CRLF
 * Whitespace or a bare ";" in a request's chunk line is where parsers disagree, so it is refused.
 * Responses are read as browsers read them: spaces or tabs may follow the size, a bare LF may end
 * the line, and anything after ";" is taken as extensions and dropped, as long as its quoted
 * strings close and it holds no control character.
 */
import { CR, HTAB, LF, SP } from "./bytes.ts";
import { HttpError } from "./errors.ts";
import { TCHAR } from "./head.ts";

/** Longest chunk-size line (size plus extensions plus line end) accepted; longer is abusive. */
export const MAX_CHUNK_LINE = 4096;

/**
 * Most chunk-extension bytes accepted over one body. Extensions are dropped when re-chunking, so a
 * body of one-byte chunks each carrying a long extension would make the proxy read far more than
 * it forwards (Node.js caps them at 16 KiB for the same reason, CVE-2024-22019).
 */
export const MAX_CHUNK_EXTENSIONS = 16 * 1024;

const enum S {
  /** Before the first hex digit. */
  Start,
  /** In the hex digits of the size. */
  Size,
  /** After the size, in spaces or tabs (responses only). */
  AfterSize,
  /** Just after ";" (requests: a name must follow). */
  NameStart,
  Name,
  /** Just after "=". */
  ValueStart,
  ValueToken,
  Quoted,
  QuotedEscape,
  /** After the closing quote of a value. */
  AfterQuoted,
  /** Responses: extension text after ";", outside quotes. */
  Loose,
  LooseQuoted,
  LooseQuotedEscape,
  /** A CR was read: only LF may follow. */
  Cr,
}

export class ChunkLineScanner {
  readonly #status: number;
  readonly #lenient: boolean;
  #state = S.Start;
  /** Bytes of the current line examined so far (they stay in the buffer until it is whole). */
  #seen = 0;
  #size = 0;
  #extensionBytes = 0;

  /** `lenient`: a response's chunk line, read as browsers read it. */
  constructor(status: number, lenient: boolean) {
    this.#status = status;
    this.#lenient = lenient;
  }

  /** Length of the line the last successful {@link scan} completed, its line end included. */
  lineLength = 0;

  /**
   * Checks the bytes of the line in bytes[start, end) that arrived since the last call (the line
   * starts at `start` every time). Returns the chunk size once the line is complete (see
   * lineLength), or -1 when more bytes are needed; throws at the first byte that makes the line
   * invalid.
   */
  scan(bytes: Uint8Array, start: number, end: number): number {
    let i = start + this.#seen;
    for (; i < end; i++) {
      const c = bytes[i];
      if (c !== LF && i - start >= MAX_CHUNK_LINE - 1) {
        throw this.#error(`chunk-size line is longer than ${MAX_CHUNK_LINE} bytes`);
      }
      if (this.#step(c)) {
        const size = this.#size;
        this.#state = S.Start;
        this.#seen = 0;
        this.#size = 0;
        this.lineLength = i + 1 - start;
        return size;
      }
    }
    this.#seen = i - start;
    return -1;
  }

  /** Advances over one byte; true when it ended the line. */
  #step(c: number): boolean {
    const state = this.#state;
    if (state >= S.NameStart && state <= S.LooseQuotedEscape) this.#countExtension();
    switch (state) {
      case S.Start: {
        const d = hexValue(c);
        if (d < 0) throw this.#notHex(c);
        this.#size = d;
        this.#state = S.Size;
        return false;
      }
      case S.Size: {
        const d = hexValue(c);
        if (d >= 0) {
          this.#size = this.#size * 16 + d;
          if (this.#size > Number.MAX_SAFE_INTEGER) throw this.#error("chunk size is too large");
          return false;
        }
        if (c === SP || c === HTAB) {
          if (!this.#lenient) throw this.#error("chunk size is followed by whitespace");
          this.#state = S.AfterSize;
          return false;
        }
        return this.#afterValue(c, () => this.#notHex(c));
      }
      case S.AfterSize:
        if (c === SP || c === HTAB) return false;
        return this.#afterValue(c, () => this.#notHex(c));
      case S.NameStart:
        if (TCHAR[c] === 1) {
          this.#state = S.Name;
          return false;
        }
        throw this.#extensionError(c, 'chunk extension has no name (a bare ";")');
      case S.Name:
        if (TCHAR[c] === 1) return false;
        if (c === 0x3d) {
          this.#state = S.ValueStart;
          return false;
        }
        return this.#afterValue(
          c,
          () => this.#extensionError(c, "chunk extension name contains an invalid character"),
        );
      case S.ValueStart:
        if (TCHAR[c] === 1) {
          this.#state = S.ValueToken;
          return false;
        }
        if (c === 0x22) {
          this.#state = S.Quoted;
          return false;
        }
        throw this.#extensionError(c, "chunk extension value is invalid");
      case S.ValueToken:
        if (TCHAR[c] === 1) return false;
        return this.#afterValue(
          c,
          () => this.#extensionError(c, "chunk extension value is invalid"),
        );
      case S.Quoted:
      case S.LooseQuoted:
        if (c === 0x22) {
          this.#state = state === S.Quoted ? S.AfterQuoted : S.Loose;
        } else if (c === 0x5c) {
          this.#state = state === S.Quoted ? S.QuotedEscape : S.LooseQuotedEscape;
        } else if (!isQuotable(c)) throw this.#quoteError(c);
        return false;
      case S.QuotedEscape:
      case S.LooseQuotedEscape:
        if (!isQuotable(c)) throw this.#quoteError(c);
        this.#state = state === S.QuotedEscape ? S.Quoted : S.LooseQuoted;
        return false;
      case S.AfterQuoted:
        return this.#afterValue(
          c,
          () => this.#extensionError(c, "chunk extension has bytes after a quoted string"),
        );
      case S.Loose:
        if (c === 0x22) this.#state = S.LooseQuoted;
        else if (c === CR) this.#state = S.Cr;
        else if (c === LF) return true; // lenient only
        else if (isControl(c)) throw this.#error("chunk extension contains a control character");
        return false;
      case S.Cr:
        if (c === LF) return true;
        throw this.#error("chunk-size line contains a CR not followed by LF");
    }
    return false;
  }

  /**
   * The bytes that may follow a size, name or value: ";" (another extension), CR or LF (the end of
   * the line); anything else gets `otherwise()`.
   */
  #afterValue(c: number, otherwise: () => HttpError): boolean {
    if (c === 0x3b) {
      this.#countExtension();
      this.#state = this.#lenient ? S.Loose : S.NameStart;
      return false;
    }
    if (c === CR) {
      this.#state = S.Cr;
      return false;
    }
    if (c === LF) {
      if (this.#lenient) return true;
      throw this.#error("chunk-size line ends with a bare LF");
    }
    throw otherwise();
  }

  #countExtension(): void {
    if (++this.#extensionBytes > MAX_CHUNK_EXTENSIONS) {
      throw this.#error(`chunk extensions exceed ${MAX_CHUNK_EXTENSIONS} bytes in one body`);
    }
  }

  #notHex(c: number): HttpError {
    if (c === LF && !this.#lenient) return this.#error("chunk-size line ends with a bare LF");
    return this.#error("chunk size is not a hexadecimal number");
  }

  #extensionError(c: number, message: string): HttpError {
    if (c === SP || c === HTAB) return this.#error("chunk extension contains whitespace");
    if (c === LF && !this.#lenient) return this.#error("chunk-size line ends with a bare LF");
    if (isControl(c) && c !== CR && c !== LF) {
      return this.#error("chunk extension contains a control character");
    }
    return this.#error(message);
  }

  #quoteError(c: number): HttpError {
    if (c === CR || c === LF) {
      return this.#error("chunk extension has a quoted string that does not close");
    }
    return this.#error("chunk extension contains a control character");
  }

  #error(message: string): HttpError {
    return new HttpError(this.#status, message);
  }
}

function hexValue(c: number): number {
  if (c >= 0x30 && c <= 0x39) return c - 0x30;
  const l = c | 0x20;
  if (l >= 0x61 && l <= 0x66) return l - 0x61 + 10;
  return -1;
}

function isControl(c: number): boolean {
  return (c < 0x20 && c !== HTAB) || c === 0x7f;
}

/** qdtext or the byte after a backslash (RFC 9110 section 5.6.4): no control but HTAB. */
function isQuotable(c: number): boolean {
  return !isControl(c);
}
