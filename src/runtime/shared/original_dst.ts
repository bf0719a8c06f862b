/**
 * Transparent mode: where a connection redirected by iptables/nftables REDIRECT (or DNAT) was
 * really going. Linux keeps it in conntrack and hands it out with getsockopt(SO_ORIGINAL_DST):
 * level SOL_IP (0) with a sockaddr_in for IPv4, SOL_IPV6 (41) IP6T_SO_ORIGINAL_DST with a
 * sockaddr_in6 for IPv6 (both option numbers are 80).
 *
 * getsockopt needs the socket's file descriptor, which neither runtime's Conn gives: Deno 2 has
 * no fd or rid in its public API, and on Bun only node:net sockets show one (`_handle.fd`), not
 * Bun.listen's. So the descriptor is found the same way on both: every socket in /proc/self/fd
 * whose getsockname/getpeername equal the connection's local and remote address is the one (a
 * TCP 4-tuple is unique). That is a readdir plus two syscalls per open socket, once per accepted
 * connection. It works with whatever Conn implementation accepted the connection. The libc calls
 * come from the runtime's FFI (Runtime.socketCalls; src/runtime/mod.ts passes them).
 */
import fs from "node:fs";
import type { Address, Conn, Listener, Network, SocketCalls } from "../types.ts";

const AF_INET = 2;
const AF_INET6 = 10;
const SOL_IP = 0;
const SOL_IPV6 = 41;
const SO_ORIGINAL_DST = 80;
const IP6T_SO_ORIGINAL_DST = 80;

/** A socket address decoded from a sockaddr_in / sockaddr_in6 buffer. */
export interface SockAddr extends Address {
  family: 4 | 6;
}

/** Decodes sockaddr_in (16 bytes) or sockaddr_in6 (28); null for another family. */
export function decodeSockaddr(buf: Uint8Array): SockAddr | null {
  const family = buf[0] | (buf[1] << 8); // sa_family_t is host order (little-endian here)
  const port = (buf[2] << 8) | buf[3]; // network order
  if (family === AF_INET) return { family: 4, host: buf.subarray(4, 8).join("."), port };
  if (family === AF_INET6) return { family: 6, host: formatIpv6(buf.subarray(8, 24)), port };
  return null;
}

function formatIpv6(b: Uint8Array): string {
  // IPv4-mapped (::ffff:a.b.c.d) is shown the way the runtimes show it.
  if (b.subarray(0, 10).every((x) => x === 0) && b[10] === 0xff && b[11] === 0xff) {
    return `::ffff:${b.subarray(12).join(".")}`;
  }
  const groups: number[] = [];
  for (let i = 0; i < 16; i += 2) groups.push((b[i] << 8) | b[i + 1]);
  // Compress the longest run of zero groups (RFC 5952).
  let best = -1, bestLen = 0;
  for (let i = 0; i < 8;) {
    if (groups[i] !== 0) {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && groups[j] === 0) j++;
    if (j - i > bestLen && j - i > 1) [best, bestLen] = [i, j - i];
    i = j;
  }
  const hex = groups.map((g) => g.toString(16));
  if (best < 0) return hex.join(":");
  return `${hex.slice(0, best).join(":")}::${hex.slice(best + bestLen).join(":")}`;
}

/** The same host however a runtime wrote it: "::ffff:1.2.3.4" is 1.2.3.4, brackets dropped. */
export function normalizeHost(host: string): string {
  const h = host.replace(/^\[(.*)\]$/, "$1").toLowerCase();
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/.exec(h);
  return mapped ? mapped[1] : h;
}

function sameAddress(a: Address, b: Address): boolean {
  return a.port === b.port && normalizeHost(a.host) === normalizeHost(b.host);
}

function call(f: (buf: Uint8Array, len: Uint8Array) => number, size = 128): Uint8Array | null {
  const buf = new Uint8Array(size);
  const len = new Uint8Array(4);
  new DataView(len.buffer).setUint32(0, size, true);
  return f(buf, len) === 0 ? buf : null;
}

/**
 * The descriptor of this process's TCP socket with this local and remote address, or null.
 * Reads /proc/self/fd (Linux).
 */
export function findSocketFd(libc: SocketCalls, local: Address, remote: Address): number | null {
  for (const name of fs.readdirSync("/proc/self/fd")) {
    let link: string;
    try {
      link = fs.readlinkSync(`/proc/self/fd/${name}`);
    } catch {
      continue; // closed since readdir
    }
    if (!link.startsWith("socket:")) continue;
    const fd = Number(name);
    const peer = call((b, l) => libc.getpeername(fd, b, l));
    if (peer === null) continue; // a listener, or not connected
    const p = decodeSockaddr(peer);
    if (p === null || !sameAddress(p, remote)) continue;
    const own = call((b, l) => libc.getsockname(fd, b, l));
    const s = own && decodeSockaddr(own);
    if (s && sameAddress(s, local)) return fd;
  }
  return null;
}

/**
 * getsockopt(SO_ORIGINAL_DST) on `fd`: IPv6 first on an IPv6 socket, then IPv4 (an IPv4 client
 * on a dual-stack socket is tracked as IPv4). Null when the kernel has none (not redirected, or no
 * conntrack entry).
 */
export function readOriginalDst(libc: SocketCalls, fd: number): SockAddr | null {
  const own = call((b, l) => libc.getsockname(fd, b, l));
  const family = own ? own[0] | (own[1] << 8) : AF_INET;
  if (family === AF_INET6) {
    const v6 = call((b, l) => libc.getsockopt(fd, SOL_IPV6, IP6T_SO_ORIGINAL_DST, b, l), 28);
    if (v6 !== null) return decodeSockaddr(v6);
  }
  const v4 = call((b, l) => libc.getsockopt(fd, SOL_IP, SO_ORIGINAL_DST, b, l), 16);
  return v4 === null ? null : decodeSockaddr(v4);
}

/**
 * The original destination of an accepted connection, or null when there is none (it was not
 * redirected) or its socket cannot be found. Rejects when FFI is not allowed (Deno without
 * --allow-ffi) or not on Linux.
 */
export async function originalDst(
  socketCalls: () => Promise<SocketCalls>,
  conn: Conn,
): Promise<SockAddr | null> {
  const libc = await socketCalls();
  const fd = findSocketFd(libc, conn.local, conn.remote);
  if (fd === null) return null;
  return readOriginalDst(libc, fd);
}

/**
 * Listens (with the runtime's `network`) for redirected connections and calls `onConn` with each
 * one and where it was going (`socketCalls`: the runtime's FFI).
 * A connection without an original destination (someone connected to the port directly) gets
 * `null`: the caller decides (mitmproxy answers it as a regular proxy would; refusing is fine).
 * FFI is loaded before listening, so a missing permission fails here and not per connection.
 */
export async function listenTransparent(
  socketCalls: () => Promise<SocketCalls>,
  network: Network,
  address: Address,
  onConn: (conn: Conn, originalDst: SockAddr | null) => void,
  onError: (conn: Conn, error: unknown) => void = (conn) => conn.close(),
): Promise<Listener> {
  await socketCalls();
  return network.listen(address, (conn) => {
    originalDst(socketCalls, conn).then((dst) => onConn(conn, dst), (e) => onError(conn, e));
  });
}
