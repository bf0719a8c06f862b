/**
 * Idle origin connections kept for reuse, per scheme/host/port. While a connection idles, one read
 * stays outstanding so that an origin closing it is noticed at once and the connection evicted;
 * a connection taken from the pool hands that read to its new user.
 */
import { ResponseReader } from "../http1/mod.ts";
import type { HeadLimits } from "../http1/mod.ts";
import type { Conn } from "../runtime/types.ts";
import type { ServerPeer } from "../flow/flow.ts";

export class OriginConn {
  readonly conn: Conn;
  readonly key: string;
  readonly reader: ResponseReader;
  /** Requests sent on this connection so far. */
  uses = 0;
  /** The origin as flows describe it (address, TLS, connect and handshake times). */
  server: ServerPeer;
  #pending: Promise<Uint8Array | null> | null = null;
  #idleTimer: ReturnType<typeof setTimeout> | undefined;
  #idle = false;

  constructor(conn: Conn, key: string, limits: Partial<HeadLimits>, server?: ServerPeer) {
    this.conn = conn;
    this.key = key;
    this.reader = new ResponseReader(limits);
    this.server = server ?? { address: conn.remote.host, port: conn.remote.port, tls: null };
  }

  /** Reads the next chunk (the outstanding idle read first, if any). */
  readonly read = (): Promise<Uint8Array | null> => {
    const p = this.#pending;
    if (p !== null) {
      this.#pending = null;
      return p;
    }
    return this.conn.read();
  };

  close(): void {
    clearTimeout(this.#idleTimer);
    this.#idle = false;
    this.conn.close();
  }

  /** Pool bookkeeping: start idling; `evict` runs if the origin speaks or leaves meanwhile. */
  startIdle(timeoutMs: number, evict: () => void): void {
    this.#idle = true;
    this.#idleTimer = setTimeout(evict, timeoutMs);
    const p = this.conn.read();
    this.#pending = p;
    const onWake = () => {
      if (this.#idle) evict();
    };
    p.then(onWake, onWake);
  }

  stopIdle(): void {
    this.#idle = false;
    clearTimeout(this.#idleTimer);
  }
}

export class OriginPool {
  readonly #idle = new Map<string, OriginConn[]>();
  readonly #maxPerKey: number;
  readonly #idleTimeoutMs: number;

  constructor(maxPerKey: number, idleTimeoutMs: number) {
    this.#maxPerKey = maxPerKey;
    this.#idleTimeoutMs = idleTimeoutMs;
  }

  /** The most recently used idle connection for `key`, if any. */
  take(key: string): OriginConn | undefined {
    const list = this.#idle.get(key);
    if (!list) return undefined;
    const oc = list.pop();
    if (list.length === 0) this.#idle.delete(key);
    oc?.stopIdle();
    return oc;
  }

  /** Returns a connection after a complete exchange; closes it if the pool is full. */
  release(oc: OriginConn): void {
    if (oc.conn.isClosed || this.#maxPerKey === 0) return oc.close();
    let list = this.#idle.get(oc.key);
    if (!list) this.#idle.set(oc.key, list = []);
    if (list.length >= this.#maxPerKey) return oc.close();
    list.push(oc);
    oc.startIdle(this.#idleTimeoutMs, () => this.#evict(oc));
  }

  #evict(oc: OriginConn): void {
    const list = this.#idle.get(oc.key);
    const i = list ? list.indexOf(oc) : -1;
    if (i >= 0) {
      list!.splice(i, 1);
      if (list!.length === 0) this.#idle.delete(oc.key);
    }
    oc.close();
  }

  /** Number of idle connections held. */
  get size(): number {
    let n = 0;
    for (const list of this.#idle.values()) n += list.length;
    return n;
  }

  closeAll(): void {
    for (const list of this.#idle.values()) for (const oc of list) oc.close();
    this.#idle.clear();
  }
}
