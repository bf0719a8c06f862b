/**
 * An in-memory Network for unit tests: connections are MemoryConn pairs
 * (src/runtime/shared/memory.ts), listeners are entries in a map, and failures (refused, DNS) are
 * what a real network reports. No sockets, no timers.
 */
import {
  type Address,
  type Conn,
  type ConnectOptions,
  type Listener,
  NetError,
  type Network,
} from "../../src/runtime/types.ts";
import { MemoryConn } from "../../src/runtime/shared/memory.ts";

/** A network of in-memory hosts: listen on any address, connect to listening ones. */
export class MemoryNetwork implements Network {
  readonly #listeners = new Map<string, (conn: Conn) => void>();
  #nextPort = 40000;
  /** Host names that fail DNS resolution. Everything else "resolves". */
  readonly unresolvable: Set<string> = new Set();

  listen(address: Address, onConn: (conn: Conn) => void): Promise<Listener> {
    const port = address.port || this.#nextPort++;
    const key = `${address.host}:${port}`;
    if (this.#listeners.has(key)) {
      return Promise.reject(new NetError("address-in-use", "address already in use"));
    }
    this.#listeners.set(key, onConn);
    return Promise.resolve({
      address: { host: address.host, port },
      close: () => {
        this.#listeners.delete(key);
        return Promise.resolve();
      },
    });
  }

  connect(options: ConnectOptions): Promise<Conn> {
    if (this.unresolvable.has(options.host)) {
      return Promise.reject(new NetError("dns", "DNS lookup failed"));
    }
    const onConn = this.#listeners.get(`${options.host}:${options.port}`);
    if (!onConn) return Promise.reject(new NetError("refused", "connection refused"));
    const [client, server] = MemoryConn.pair(
      { host: "127.0.0.1", port: this.#nextPort++ },
      { host: options.host, port: options.port },
    );
    queueMicrotask(() => onConn(server));
    return Promise.resolve(client);
  }
}
