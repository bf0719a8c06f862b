/**
 * Issued leaves, bounded (least recently used goes first) and single-flight: concurrent
 * handshakes for the same names wait for one issuance. A leaf close to expiry is issued again.
 */
import type { CertificateAuthority, Leaf, LeafKeyType } from "./authority.ts";

const RENEW_BEFORE_MS = 7 * 24 * 60 * 60 * 1000;

export class LeafCache {
  readonly #ca: CertificateAuthority;
  readonly #capacity: number;
  readonly #entries = new Map<string, Promise<Leaf>>();
  /** Each issuance's leaf once it is there: a handshake for known names needs no promise. */
  readonly #issued = new WeakMap<Promise<Leaf>, Leaf>();
  /** Leaves issued so far (for tests and stats). */
  issued = 0;

  constructor(ca: CertificateAuthority, capacity = 2000) {
    this.#ca = ca;
    this.#capacity = capacity;
  }

  get size(): number {
    return this.#entries.size;
  }

  /**
   * The leaf for `names` (order matters only for which name becomes the CN) with a key of
   * `keyType`.
   */
  get(names: readonly string[], keyType: LeafKeyType = "ecdsa"): Promise<Leaf> {
    const key = keyOf(names, keyType);
    const hit = this.#entries.get(key);
    if (hit) {
      this.#touch(key, hit);
      return hit.then((leaf) => {
        if (leaf.notAfter.getTime() - Date.now() > RENEW_BEFORE_MS) return leaf;
        // The first to notice renews; the others wait for that renewal.
        const current = this.#entries.get(key);
        return current !== undefined && current !== hit
          ? current
          : this.#issue(key, names, keyType);
      });
    }
    return this.#issue(key, names, keyType);
  }

  /**
   * The leaf for `names`, at once, when it was issued already and is not close to expiry (else
   * undefined: `get` issues or waits for it). Marks it most recently used.
   */
  cached(names: readonly string[], keyType: LeafKeyType = "ecdsa"): Leaf | undefined {
    const key = keyOf(names, keyType);
    const hit = this.#entries.get(key);
    const leaf = hit && this.#issued.get(hit);
    if (leaf === undefined || leaf.notAfter.getTime() - Date.now() <= RENEW_BEFORE_MS) {
      return undefined;
    }
    this.#touch(key, hit!);
    return leaf;
  }

  /** Re-inserts an entry to mark it most recently used. */
  #touch(key: string, entry: Promise<Leaf>): void {
    this.#entries.delete(key);
    this.#entries.set(key, entry);
  }

  #issue(key: string, names: readonly string[], keyType: LeafKeyType): Promise<Leaf> {
    const pending = this.#ca.issue(names, Date.now(), keyType);
    this.issued++;
    this.#entries.delete(key);
    this.#entries.set(key, pending);
    pending.then(
      (leaf) => this.#issued.set(pending, leaf),
      // A failed issuance is not cached.
      () => {
        if (this.#entries.get(key) === pending) this.#entries.delete(key);
      },
    );
    while (this.#entries.size > this.#capacity) {
      this.#entries.delete(this.#entries.keys().next().value!);
    }
    return pending;
  }
}

function keyOf(names: readonly string[], keyType: LeafKeyType): string {
  return `${keyType}\n${names.join("\n")}`;
}
