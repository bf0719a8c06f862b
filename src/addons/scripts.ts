/**
 * Addon scripts (`-s FILE.ts`): a module whose default export is an addon or an array of addons.
 * Each file is watched and reloaded when it changes: the new version replaces the old one in
 * place (its `done`, then the new `load`); a broken edit keeps the old version and logs why.
 *
 * Reloading imports a fresh copy written next to the original (so that its relative imports
 * still resolve) and removes it: Bun caches modules by path and ignores "?v=2" style queries.
 */
import fs from "node:fs";
import path from "node:path";
import process from "node:process";
import { pathToFileURL } from "node:url";
import type { Logger } from "../log.ts";
import type { AddonManager } from "./manager.ts";
import type { Addon } from "./types.ts";

export class ScriptError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "ScriptError";
  }
}

interface Script {
  file: string;
  addons: Addon[];
  version: number;
  watcher: fs.FSWatcher | null;
  timer: ReturnType<typeof setTimeout> | undefined;
  reloading: Promise<void>;
}

export class ScriptLoader {
  readonly #manager: AddonManager;
  readonly #log: Logger;
  readonly #scripts: Script[] = [];

  constructor(manager: AddonManager, log: Logger) {
    this.#manager = manager;
    this.#log = log;
  }

  /** Loads a script and starts watching it; throws ScriptError if it cannot be loaded. */
  async load(file: string, watch = true): Promise<void> {
    const abs = path.resolve(file);
    if (!fs.existsSync(abs)) throw new ScriptError(`addon script ${file} does not exist`);
    const addons = await importAddons(abs, 0);
    const script: Script = {
      file: abs,
      addons,
      version: 0,
      watcher: null,
      timer: undefined,
      reloading: Promise.resolve(),
    };
    this.#scripts.push(script);
    await this.#manager.add(...addons);
    this.#log.info(`loaded addon script ${file} (${addons.map((a) => a.name).join(", ")})`);
    if (watch) this.#watch(script);
  }

  #watch(script: Script): void {
    // Watch the directory: editors often replace a file (rename) rather than write it.
    const base = path.basename(script.file);
    script.watcher = fs.watch(path.dirname(script.file), (_event, name) => {
      if (name !== base) return;
      clearTimeout(script.timer);
      script.timer = setTimeout(() => {
        script.reloading = script.reloading.then(() => this.#reload(script));
      }, 100);
    });
  }

  async #reload(script: Script): Promise<void> {
    if (!fs.existsSync(script.file)) return; // mid-save; the next event brings it back
    let fresh: Addon[];
    try {
      fresh = await importAddons(script.file, ++script.version);
    } catch (e) {
      // One line: a multi-line message (a code frame) would scatter through the live output.
      this.#log.error(
        `reloading ${script.file} failed, keeping the previous version: ${
          String((e as Error)?.message ?? e).replace(/\s+/g, " ")
        }`,
      );
      return;
    }
    await this.#manager.replace(script.addons, fresh);
    script.addons = fresh;
    this.#log.info(`reloaded addon script ${script.file}`);
  }

  /** Stops watching; waits for a reload in progress. */
  async close(): Promise<void> {
    for (const s of this.#scripts) {
      clearTimeout(s.timer);
      s.watcher?.close();
      await s.reloading;
    }
  }
}

/** Imports version `version` of a script and checks what it exports. */
async function importAddons(file: string, version: number): Promise<Addon[]> {
  let target = file;
  if (version > 0) {
    const ext = path.extname(file);
    target = path.join(
      path.dirname(file),
      `.${path.basename(file, ext)}.mitm-reload-${process.pid}-${version}${ext}`,
    );
    fs.copyFileSync(file, target);
  }
  let mod: { default?: unknown };
  try {
    mod = await import(pathToFileURL(target).href);
  } catch (e) {
    throw new ScriptError(
      `cannot load addon script ${file}: ${describeLoadError(e, target, file)}`,
    );
  } finally {
    if (target !== file) fs.rmSync(target, { force: true });
  }
  const exported = mod.default;
  const list = Array.isArray(exported) ? exported : [exported];
  if (list.length === 0 || list.some((a) => a === null || typeof a !== "object")) {
    throw new ScriptError(
      `addon script ${file} must export default an addon object (or an array of them)`,
    );
  }
  const base = path.basename(file);
  return list.map((a: Addon, i: number) => {
    if (a.name === undefined) a.name = list.length === 1 ? base : `${base}[${i}]`;
    return a;
  });
}

// Terminal colour sequences, which Deno puts in some module errors.
// deno-lint-ignore no-control-regex
const ANSI = /\x1b\[[0-9;]*m/g;

/**
 * An import failure in one line: the error's first line (not the code frame under it) and where
 * in the user's file it happened. `imported` is the path actually imported (a reload copy), shown
 * as `file`. Runtimes differ: Bun gives a syntax error as a BuildMessage with `position`, Deno
 * puts "at file:///...:L:C" in the message, and an error thrown while running has a stack.
 */
function describeLoadError(e: unknown, imported: string, file: string): string {
  // Bun reports several syntax errors as an AggregateError of BuildMessages: the first says most.
  const all = (e as { errors?: unknown })?.errors;
  if (e instanceof AggregateError && Array.isArray(all) && all.length > 0) {
    const more = all.length > 1 ? ` (and ${all.length - 1} more errors)` : "";
    return describeLoadError(all[0], imported, file) + more;
  }
  const err = e as { message?: unknown; stack?: unknown; position?: unknown; name?: unknown };
  const raw = String(err?.message ?? e).replace(ANSI, "");
  const firstLine = raw.split("\n").map((l) => l.trim()).find((l) =>
    l !== "" && !l.startsWith("|")
  );
  let message = (firstLine ?? raw).replace(/\s+at \S+:\d+:\d+$/, "").replace(/\.$/, "");
  // Bun's BuildMessage is a syntax error; its ResolveMessage already says "Cannot find module".
  const name = err?.name === "BuildMessage" ? "SyntaxError" : String(err?.name ?? "");
  const plain = ["", "Error", "TypeError", "ResolveMessage"].includes(name);
  if (!plain && !message.startsWith(name)) message = `${name}: ${message}`;
  const where = locationIn(err, raw, imported);
  message = message.split(imported).join(file); // a reload copy's name means nothing to the user
  return where === null ? message : `${message} (at ${file}:${where})`;
}

/** "line:column" of the first place in `imported` that the error names, or null. */
function locationIn(
  err: { stack?: unknown; position?: unknown },
  message: string,
  imported: string,
): string | null {
  const pos = err?.position as { file?: string; line?: number; column?: number } | undefined;
  if (pos && typeof pos.line === "number" && (pos.file === undefined || pos.file === imported)) {
    return `${pos.line}:${pos.column ?? 0}`;
  }
  const url = pathToFileURL(imported).href;
  const texts = [message, String(err?.stack ?? "").replace(ANSI, "")];
  for (const text of texts) {
    for (const prefix of [url, imported]) {
      let at = text.indexOf(prefix + ":");
      while (at >= 0) {
        const m = /^:(\d+):(\d+)/.exec(text.slice(at + prefix.length));
        if (m) return `${m[1]}:${m[2]}`;
        at = text.indexOf(prefix + ":", at + 1);
      }
    }
  }
  return null;
}
