// Installs the pinned npm dependencies (including the Deno and Bun binaries) when node_modules is
// missing or older than package.json / package-lock.json. Runs under plain Node, before either
// runtime exists on the machine.
import { execSync } from "node:child_process";
import { existsSync, statSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const marker = join(root, "node_modules", ".package-lock.json");

function mtime(p) {
  return existsSync(p) ? statSync(p).mtimeMs : 0;
}

const stale = !existsSync(join(root, "node_modules", ".bin", "deno")) ||
  !existsSync(join(root, "node_modules", ".bin", "bun")) ||
  mtime(marker) <
    Math.max(mtime(join(root, "package.json")), mtime(join(root, "package-lock.json")));

if (stale) {
  console.error("mitm.ts: installing dependencies (npm ci: pinned Deno, Bun and libraries)...");
  const cmd = existsSync(join(root, "package-lock.json")) ? "npm ci" : "npm install";
  execSync(`${cmd} --no-audit --no-fund --loglevel=error`, { cwd: root, stdio: "inherit" });
}
