/**
 * A structural diff of two JSON values: each difference with its path ($.a.b[2]), so that a
 * changed field reads as one line instead of a changed blob. Object key order does not matter;
 * array order does (element by element, then what one side has beyond the other's length).
 */

export interface JsonChange {
  /** "$" for the whole value, then .name or ["odd name"] and [index] steps. */
  path: string;
  kind: "added" | "removed" | "changed";
  /** Absent for "added". */
  before?: unknown;
  /** Absent for "removed". */
  after?: unknown;
}

/** The differences from `a` to `b`, in document order; at most `limit` of them. */
export function jsonDiff(a: unknown, b: unknown, limit = 200): JsonChange[] {
  const out: JsonChange[] = [];
  walk(a, b, "$", out, limit);
  return out;
}

function walk(a: unknown, b: unknown, path: string, out: JsonChange[], limit: number): void {
  if (out.length >= limit) return;
  if (isObject(a) && isObject(b)) {
    for (const key of Object.keys(a)) {
      const p = path + step(key);
      if (!(key in b)) out.push({ path: p, kind: "removed", before: a[key] });
      else walk(a[key], b[key], p, out, limit);
      if (out.length >= limit) return;
    }
    for (const key of Object.keys(b)) {
      if (!(key in a)) out.push({ path: path + step(key), kind: "added", after: b[key] });
      if (out.length >= limit) return;
    }
    return;
  }
  if (Array.isArray(a) && Array.isArray(b)) {
    const common = Math.min(a.length, b.length);
    for (let i = 0; i < common && out.length < limit; i++) {
      walk(a[i], b[i], `${path}[${i}]`, out, limit);
    }
    for (let i = common; i < a.length && out.length < limit; i++) {
      out.push({ path: `${path}[${i}]`, kind: "removed", before: a[i] });
    }
    for (let i = common; i < b.length && out.length < limit; i++) {
      out.push({ path: `${path}[${i}]`, kind: "added", after: b[i] });
    }
    return;
  }
  // Scalars, or containers of different kinds (object against array): the whole value changed.
  if (a !== b) out.push({ path, kind: "changed", before: a, after: b });
}

function isObject(v: unknown): v is Record<string, unknown> {
  return v !== null && typeof v === "object" && !Array.isArray(v);
}

/** `.name` for identifier-like keys, `["..."]` otherwise. */
function step(key: string): string {
  return /^[A-Za-z_$][\w$]*$/.test(key) ? `.${key}` : `[${JSON.stringify(key)}]`;
}
