/**
 * Idle origin connections shared by every client connection of the proxy (origin_pool_size per
 * key, origin_idle_timeout): a keep-alive HTTP/1 connection one client's exchange left idle
 * serves the next client that goes to the same place. The key is everything that makes two
 * connections interchangeable: host, port, TLS (with its SNI) and the upstream proxy
 * (and how it is used). While a connection idles one read stays outstanding, so an origin that
 * closes it (or speaks out of turn) is noticed at once and the connection dropped; the driver
 * that takes it reads that read's result first.
 */
import type { Conn } from "../../runtime/types.ts";
import type { Server, TlsState } from "../core/connection.ts";

/** Timers as the driver's services give them (services.ts DriverTimers). */
interface Timers {
  set(ms: number, fire: () => void): unknown;
  clear(handle: unknown): void;
}

/** A parked connection as the pool hands it back. */
export interface PooledConn {
  conn: Conn;
  /** The TLS the connection speaks (established), or null. */
  tls: TlsState | null;
  /** The read outstanding while it idled: the new owner's first read. */
  read: Promise<Uint8Array | null>;
}

interface Parked extends PooledConn {
  key: string;
  timer: unknown;
}

/** Which connections may stand in for each other. */
export function poolKey(server: Server): string {
  // Not the ALPN offers: only HTTP/1 connections are parked, and every user can speak HTTP/1.
  const tls = server.tls === null ? "-" : `tls/${server.tls.sni ?? ""}`;
  const via = server.via === null
    ? "-"
    : `${server.via.host}:${server.via.port}/${server.tunnel}/${server.viaAuth ?? ""}`;
  return `${server.address.host}|${server.address.port}|${tls}|${via}`;
}

export class SharedOriginPool {
  readonly #idle = new Map<string, Parked[]>();
  readonly #maxPerKey: number;
  readonly #idleTimeoutMs: number;
  readonly #timers: Timers;

  constructor(maxPerKey: number, idleTimeoutMs: number, timers: Timers) {
    this.#maxPerKey = maxPerKey;
    this.#idleTimeoutMs = idleTimeoutMs;
    this.#timers = timers;
  }

  /**
   * Keeps `conn` (idle, between exchanges) for the next user of `server`'s key; `read` is the
   * read already outstanding on it, if any. Closes it when the key's list is full.
   */
  park(server: Server, conn: Conn, read: Promise<Uint8Array | null> | null): void {
    const key = poolKey(server);
    let list = this.#idle.get(key);
    if (conn.isClosed || this.#maxPerKey <= 0 || (list?.length ?? 0) >= this.#maxPerKey) {
      conn.close();
      return;
    }
    if (!list) this.#idle.set(key, list = []);
    const tls = server.tls === null ? null : { ...server.tls };
    const entry: Parked = {
      key,
      conn,
      tls,
      read: read ?? conn.read(),
      timer: null,
    };
    // The origin closed or spoke while it idled: the connection is no use.
    const evict = () => this.#drop(entry);
    entry.read.then(evict, evict);
    if (this.#idleTimeoutMs !== Infinity) {
      entry.timer = this.#timers.set(this.#idleTimeoutMs, () => {
        entry.timer = null;
        this.#drop(entry);
      });
    }
    list.push(entry);
  }

  /** The most recently parked live connection for `server`'s key, taken out of the pool. */
  take(server: Server): PooledConn | undefined {
    const key = poolKey(server);
    const list = this.#idle.get(key);
    if (list === undefined) return undefined;
    const entry = list.pop();
    if (list.length === 0) this.#idle.delete(key);
    if (entry === undefined) return undefined;
    this.#stopTimer(entry);
    return { conn: entry.conn, tls: entry.tls, read: entry.read };
  }

  /** Whether an idle direct TLS connection to host:port is held, whatever its SNI. */
  hasTls(host: string, port: number): boolean {
    const prefix = `${host}|${port}|tls/`;
    for (const key of this.#idle.keys()) {
      if (key.startsWith(prefix) && key.endsWith("|-")) return true;
    }
    return false;
  }

  /** Idle connections held. */
  get size(): number {
    let n = 0;
    for (const list of this.#idle.values()) n += list.length;
    return n;
  }

  closeAll(): void {
    for (const list of this.#idle.values()) {
      for (const entry of list) {
        this.#stopTimer(entry);
        entry.conn.close();
      }
    }
    this.#idle.clear();
  }

  /** Out of the pool and closed (timed out, or the origin closed or spoke while it idled). */
  #drop(entry: Parked): void {
    const list = this.#idle.get(entry.key);
    const i = list ? list.indexOf(entry) : -1;
    if (i < 0) return; // taken meanwhile: the new owner reads what happened
    list!.splice(i, 1);
    if (list!.length === 0) this.#idle.delete(entry.key);
    this.#stopTimer(entry);
    entry.conn.close();
  }

  #stopTimer(entry: Parked): void {
    if (entry.timer === null) return;
    this.#timers.clear(entry.timer);
    entry.timer = null;
  }
}
