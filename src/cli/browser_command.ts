/**
 * `mitm browser [chromium|firefox] [--headless] [-- BROWSER ARGS/URLS]`: the proxy on a free port
 * and a browser with a fresh profile that uses it and trusts the CA; the profile is removed when
 * the browser exits, and mitm exits with the browser's status.
 */
import path from "node:path";
import process from "node:process";
import {
  browserArgs,
  type BrowserKind,
  browserKind,
  findBrowser,
  type LaunchPlan,
  prepareProfile,
  ProfileError,
} from "../browser/launch.ts";
import type { Filter } from "../filter/mod.ts";
import type { Options } from "../options.ts";
import { runChild } from "../run/child.ts";
import type { Flags } from "./program.ts";
import { runOptions, stderrColor, withProxy } from "./run_command.ts";

/**
 * Runs the browser; `args` are the optional browser name followed by arguments for the browser.
 * Resolves with the status to exit with.
 */
export function browserCommand(
  options: Options,
  flags: Flags,
  args: string[],
  headless: boolean,
  viewFilter: Filter | null,
): Promise<number> {
  const named = args.length > 0 ? browserKind(args[0]) : null;
  const kind: BrowserKind = named ?? "chromium";
  const extra = named === null ? args : args.slice(1);
  const executable = findBrowser(kind);
  if (executable === null) {
    console.error(
      `mitm: no ${kind} found on PATH; install it` +
        (kind === "chromium" ? " (Debian: chromium), or try mitm browser firefox." : "."),
    );
    return Promise.resolve(1);
  }
  return withProxy(
    runOptions(options, flags),
    flags,
    viewFilter,
    stderrColor(),
    async ({ proxy, prepared, log }) => {
      const plan: LaunchPlan = {
        kind,
        executable,
        profileDir: path.join(prepared.dir, "profile"),
        proxyUrl: proxy.url,
        caPem: proxy.ca.authority.certPem,
        caPemFile: proxy.ca.files.certPemFile,
        // Every leaf of this process shares one key, so any leaf's SPKI is every leaf's.
        leafPem: kind === "chromium"
          ? (await proxy.ca.leaves.get(["localhost"])).certPem
          : undefined,
        headless,
        extra,
      };
      try {
        await prepareProfile(plan);
      } catch (e) {
        if (!(e instanceof ProfileError)) throw e;
        console.error(`mitm: ${e.message}.`);
        return 1;
      }
      log.info(
        `mitm: starting ${executable} with the profile ${plan.profileDir} (removed at exit)`,
      );
      // The browser's own stdin is not ours to give: it may read it, and we may need it.
      const env = Object.fromEntries(
        Object.entries(process.env).filter((e): e is [string, string] => e[1] !== undefined),
      );
      return await runChild([executable, ...browserArgs(plan)], env, { stdin: "ignore" });
    },
  );
}
