/**
 * Which local file answers a URL for --map-local, refusing anything outside the mapped directory:
 * `..` segments (also percent-encoded) that climb out, and symlinks that lead out.
 */
import { realpathSync, statSync } from "node:fs";
import path from "node:path";

export type LocalFile =
  | { kind: "file"; file: string }
  | { kind: "missing"; tried: string[] }
  | { kind: "refused"; why: string };

/**
 * The file for `url`, whose part after the regex match (`rest`) is looked up under `root` when
 * root is a directory (a directory, or an empty rest, means its index.html).
 */
export function localFileFor(root: string, rest: string): LocalFile {
  const rootStat = statOrNull(root);
  if (rootStat === null) return { kind: "missing", tried: [root] };
  if (!rootStat.isDirectory()) return { kind: "file", file: root };
  let relative = rest.replace(/[?#].*$/s, "");
  try {
    relative = decodeURIComponent(relative);
  } catch {
    return { kind: "refused", why: "the URL path is not valid percent-encoding" };
  }
  if (relative.includes("\0")) return { kind: "refused", why: "the URL path holds a NUL byte" };
  const base = path.resolve(root);
  const wanted = path.resolve(base, "." + path.sep + relative.replace(/^[/\\]+/, ""));
  if (!inside(base, wanted)) return { kind: "refused", why: "the path leads out of the directory" };
  const candidates = [wanted, path.join(wanted, "index.html")];
  const realBase = realpathSync(base);
  for (const candidate of candidates) {
    const stat = statOrNull(candidate);
    if (stat === null || !stat.isFile()) continue;
    // A symlink inside the directory may point anywhere: judge where it really leads.
    if (!inside(realBase, realpathSync(candidate))) {
      return { kind: "refused", why: "a symbolic link leads out of the directory" };
    }
    return { kind: "file", file: candidate };
  }
  return { kind: "missing", tried: candidates };
}

function inside(base: string, p: string): boolean {
  return p === base || p.startsWith(base.endsWith(path.sep) ? base : base + path.sep);
}

function statOrNull(p: string) {
  try {
    return statSync(p);
  } catch {
    return null;
  }
}
