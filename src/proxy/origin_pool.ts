/**
 * Idle origin connections kept for reuse, per scheme/host/port. While a connection idles, one read
 * stays outstanding so that an origin closing it is noticed at once and the connection evicted;
 * a connection taken from the pool hands that read to its new user.
 */
import { ResponseReader } from "../http1/mod.ts";
import type { HeadLimits } from "../http1/mod.ts";
import type { Conn } from "../runtime/types.ts";
import type { PeerCertificate } from "../runtime/mod.ts";
import type { ServerPeer } from "../flow/flow.ts";
import type { Deadlines } from "./driver/deadlines.ts";

export class OriginConn {
  readonly conn: Conn;
  readonly key: string;
  readonly reader: ResponseReader;
  /** Requests sent on this connection so far. */
  uses = 0;
  /** The origin as flows describe it (address, TLS, connect and handshake times). */
  server: ServerPeer;
  /** The origin's certificate (https), so that a reused connection can still name leaves. */
  certificate: PeerCertificate | null = null;
  #pending: Promise<Uint8Array | null> | null = null;
  #idle = false;
  #evict: (() => void) | null = null;
  /** For the pool's Deadlines: when an idle connection is closed (0: not idle). */
  deadline = 0;

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
    this.deadline = 0;
    this.#idle = false;
    this.conn.close();
  }

  expire(): void {
    this.#evict?.();
  }

  /**
   * Pool bookkeeping: start idling; `evict` runs if the origin speaks or leaves meanwhile, or
   * when `timeoutMs` passes.
   */
  startIdle(timeoutMs: number, evict: () => void): void {
    this.#idle = true;
    this.#evict = evict;
    this.deadline = Date.now() + timeoutMs;
    const p = this.conn.read();
    this.#pending = p;
    const onWake = () => {
      if (this.#idle) evict();
    };
    p.then(onWake, onWake);
  }

  stopIdle(): void {
    this.#idle = false;
    this.#evict = null;
    this.deadline = 0;
  }
}

export class OriginPool {
  readonly #idle = new Map<string, OriginConn[]>();
  /** Idle connections per origin (scheme://host:port, any SNI): see hasIdleOrigin(). */
  readonly #perOrigin = new Map<string, number>();
  readonly #maxPerKey: number;
  readonly #idleTimeoutMs: number;
  readonly #deadlines: Deadlines;

  constructor(maxPerKey: number, idleTimeoutMs: number, deadlines: Deadlines) {
    this.#maxPerKey = maxPerKey;
    this.#idleTimeoutMs = idleTimeoutMs;
    this.#deadlines = deadlines;
  }

  /** The most recently used idle connection for `key`, if any. */
  take(key: string): OriginConn | undefined {
    const list = this.#idle.get(key);
    if (!list) return undefined;
    const oc = list.pop();
    if (list.length === 0) this.#idle.delete(key);
    if (oc) {
      oc.stopIdle();
      this.#deadlines.unwatch(oc);
      this.#count(oc, -1);
    }
    return oc;
  }

  /** The most recently used idle connection for `key`, left in the pool. */
  peek(key: string): OriginConn | undefined {
    const list = this.#idle.get(key);
    return list?.[list.length - 1];
  }

  /**
   * Whether a connection to this origin (`originKey(scheme, host, port)`) idles in the pool,
   * whatever its SNI: proof enough that the origin is up, so a CONNECT need not dial it first.
   */
  hasIdleOrigin(origin: string): boolean {
    return (this.#perOrigin.get(origin) ?? 0) > 0;
  }

  #count(oc: OriginConn, delta: number): void {
    const origin = originOf(oc.key);
    const n = (this.#perOrigin.get(origin) ?? 0) + delta;
    if (n > 0) this.#perOrigin.set(origin, n);
    else this.#perOrigin.delete(origin);
  }

  /** Returns a connection after a complete exchange; closes it if the pool is full. */
  release(oc: OriginConn): void {
    if (oc.conn.isClosed || this.#maxPerKey === 0) return oc.close();
    let list = this.#idle.get(oc.key);
    if (!list) this.#idle.set(oc.key, list = []);
    if (list.length >= this.#maxPerKey) return oc.close();
    list.push(oc);
    this.#count(oc, 1);
    oc.startIdle(this.#idleTimeoutMs, () => this.#evict(oc));
    this.#deadlines.watch(oc);
  }

  #evict(oc: OriginConn): void {
    const list = this.#idle.get(oc.key);
    const i = list ? list.indexOf(oc) : -1;
    if (i >= 0) {
      list!.splice(i, 1);
      if (list!.length === 0) this.#idle.delete(oc.key);
      this.#count(oc, -1);
    }
    this.#deadlines.unwatch(oc);
    oc.close();
  }

  /** Number of idle connections held. */
  get size(): number {
    let n = 0;
    for (const list of this.#idle.values()) n += list.length;
    return n;
  }

  closeAll(): void {
    for (const list of this.#idle.values()) {
      for (const oc of list) {
        this.#deadlines.unwatch(oc);
        oc.close();
      }
    }
    this.#idle.clear();
    this.#perOrigin.clear();
  }
}

/** The origin part of a pool key (routeKey): everything before the "#sni" of https keys. */
function originOf(key: string): string {
  const hash = key.indexOf("#");
  return hash < 0 ? key : key.slice(0, hash);
}
