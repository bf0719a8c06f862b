/**
 * A node:stream Duplex over any Conn, so that node:tls (present on every runtime) can run on a
 * connection that is not a node:net socket: Deno's native sockets, Bun's when key logging is
 * wanted, in-memory pipes. It also meters the plaintext held by the TLS socket above it (Deno's
 * node:tls keeps decrypting while paused, see TLS_HELD_LIMIT).
 */
import { Duplex, type Writable } from "node:stream";
import { closeWhenFlushed } from "./conn_parts.ts";
import type { Conn } from "../types.ts";

/**
 * A stream under a TLS socket that wants to know how much plaintext the reader has taken (so that
 * it can stop feeding a TLS layer that keeps decrypting while paused).
 */
export interface MeteredTransport extends Writable {
  delivered(plaintext: number): void;
}

/** How long a closing TLS connection may take to hand its last bytes to the OS. */
const FLUSH_BEFORE_CLOSE_MS = 2000;

/**
 * How much received plaintext the TLS socket may hold that its reader has not taken. Deno's
 * node:tls keeps pulling from its transport while the TLS socket is paused, and later emits what
 * piled up as one chunk: with a client reading slower than the origin sends, 1 GiB downloads
 * peaked at 0.5-1.8 GB RSS, with single chunks of 100 MB. So the adapter stops reading from the
 * connection while this much is held (TCP flow control then slows the peer).
 */
const TLS_HELD_LIMIT = 1024 * 1024;

/**
 * Counts the plaintext in a stream of TLS records (records may span chunks): each application-data
 * record's length less the suite's overhead, which is known once the handshake is done (an
 * estimate: CBC suites vary; see ConnDuplex.delivered for why that cannot stall a reader).
 */
class RecordMeter {
  plaintext = 0;
  overhead = 17;
  readonly #header = new Uint8Array(5);
  #headerHave = 0;
  #recordLeft = 0;

  feed(chunk: Uint8Array): void {
    let i = 0;
    while (i < chunk.length) {
      if (this.#recordLeft > 0) {
        const n = Math.min(this.#recordLeft, chunk.length - i);
        this.#recordLeft -= n;
        i += n;
        continue;
      }
      this.#header[this.#headerHave++] = chunk[i++];
      if (this.#headerHave < 5) continue;
      this.#headerHave = 0;
      this.#recordLeft = (this.#header[3] << 8) | this.#header[4];
      if (this.#header[0] === APPLICATION_DATA) {
        this.plaintext += Math.max(0, this.#recordLeft - this.overhead);
      }
    }
  }
}

const APPLICATION_DATA = 23;

/** A node:stream Duplex over a Conn, so node:tls can run on a Conn that is not a net.Socket. */
export class ConnDuplex extends Duplex implements MeteredTransport {
  readonly #conn: Conn;
  #first: Uint8Array | null;
  #reading = false;
  /** Plaintext in the records read from the connection. */
  readonly #received = new RecordMeter();
  /** Plaintext the TLS socket has emitted to its reader. */
  #delivered = 0;
  /** _read() was called while too much was held: read once the reader catches up. */
  #readWanted = false;
  /** Bytes handed to the connection so far. */
  written = 0;

  constructor(conn: Conn, first: Uint8Array) {
    super();
    this.#conn = conn;
    this.#first = first.length > 0 ? first : null;
  }

  /** Set once the suite is known (before, only handshake records pass). */
  set recordOverhead(bytes: number) {
    this.#received.overhead = bytes;
  }

  /**
   * The reader took `plaintext` bytes, or found nothing and waits (0). A waiting reader means
   * the TLS socket has nothing it can hand out, whatever the meter says (it may drift with
   * suites whose overhead varies), so reading resumes then in any case.
   */
  delivered(plaintext: number): void {
    this.#delivered += plaintext;
    if (!this.#readWanted) return;
    if (plaintext === 0) this.#delivered = this.#received.plaintext;
    if (this.#held() <= TLS_HELD_LIMIT / 2) {
      this.#readWanted = false;
      this._read();
    }
  }

  #held(): number {
    return this.#received.plaintext - this.#delivered;
  }

  override _read(): void {
    if (this.#first !== null) {
      const first = this.#first;
      this.#first = null;
      // Deno's node:tls starts a server-side handshake in a nextTick; bytes that reach it before
      // then are processed inside start(), and a ClientHello it rejects there destroys the socket
      // under start() and throws an uncaught TypeError that ends the process. A macrotask later
      // the handshake has started and a rejected hello is an ordinary "error".
      setTimeout(() => {
        if (!this.destroyed) this.push(first);
      }, 0);
      return;
    }
    if (this.#reading) return;
    if (this.#held() > TLS_HELD_LIMIT) {
      this.#readWanted = true;
      return;
    }
    this.#reading = true;
    this.#conn.read().then(
      (chunk) => {
        this.#reading = false;
        if (chunk !== null) this.#received.feed(chunk);
        this.push(chunk);
      },
      (e) => this.destroy(e),
    );
  }

  override _write(chunk: Uint8Array, _encoding: string, done: (e?: Error | null) => void): void {
    this.written += chunk.length;
    try {
      const wait = this.#conn.write(chunk);
      if (wait) wait.then(() => done(), done);
      else done();
    } catch (e) {
      done(e as Error);
    }
  }

  override _final(done: () => void): void {
    this.#conn.closeWrite();
    done();
  }

  override _destroy(error: Error | null, done: (e: Error | null) => void): void {
    // Encrypted bytes handed to the transport (a close_notify, the last response) may still be
    // queued there: let them out first, for a bounded time, unless this is an abort.
    if (error === null) closeWhenFlushed(this.#conn, FLUSH_BEFORE_CLOSE_MS);
    else this.#conn.close();
    done(error);
  }
}
