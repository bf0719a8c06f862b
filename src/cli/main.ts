/**
 * The command line, built with commander (see README for why): parse flags into options, start
 * the proxy, print how to use it, stop on SIGINT/SIGTERM.
 */
import { Command, CommanderError, Option } from "commander";
import os from "node:os";
import { consoleSink, createLogger, type LogLevel } from "../log.ts";
import {
  OPTION_SPECS,
  OptionError,
  type OptionName,
  type Options,
  parseOptionValue,
  resolveOptions,
} from "../options.ts";
import { startProxy } from "../proxy/server.ts";
import { onShutdownSignal, runtime } from "../runtime/mod.ts";
import { VERSION } from "../version.ts";

/** Exit status for usage errors (unknown flag, bad value), as in mitmproxy and most Unix tools. */
export const USAGE_ERROR = 2;

interface Flags {
  listenHost?: string;
  listenPort?: string;
  confdir?: string;
  quiet?: boolean;
  verbose?: boolean;
  set?: string[];
  options?: boolean;
}

function buildProgram(): Command {
  return new Command("mitm")
    .description("mitm.ts - an intercepting HTTP/HTTPS proxy for Deno and Bun")
    .version(`mitm.ts ${VERSION}`, "--version", "print the version and exit")
    .helpOption("-h, --help", "show this help and exit")
    .option("--listen-host <host>", "address to listen on (default 127.0.0.1)")
    .option("-p, --listen-port <port>", "port to listen on (default 8080)")
    .option("--confdir <dir>", "directory for the CA and other state (default ~/.mitm-ts)")
    .option("-q, --quiet", "print only errors")
    .option("-v, --verbose", "print debug detail (connections, each request line)")
    .addOption(
      new Option("--set <name=value>", "set any option (repeatable); see --options")
        .argParser((v: string, prev: string[] = []) => [...prev, v]),
    )
    .option("--options", "list every option with its default and exit")
    .showSuggestionAfterError(true)
    .allowExcessArguments(false)
    .exitOverride()
    .configureOutput({ writeErr: () => {}, outputError: () => {} });
}

/** Flags and --set pairs as option overrides; throws OptionError for bad values. */
export function optionsFromFlags(flags: Flags): Partial<Options> {
  const overrides: Record<string, unknown> = {};
  for (const pair of flags.set ?? []) {
    const eq = pair.indexOf("=");
    if (eq <= 0) throw new OptionError(`--set expects name=value, got "${pair}"`);
    const name = pair.slice(0, eq);
    overrides[name] = parseOptionValue(name, pair.slice(eq + 1));
  }
  const flag = (name: OptionName, value: string | undefined) => {
    if (value !== undefined) overrides[name] = parseOptionValue(name, value);
  };
  flag("listen_host", flags.listenHost);
  flag("listen_port", flags.listenPort);
  flag("confdir", flags.confdir);
  if (typeof overrides.confdir === "string") overrides.confdir = expandHome(overrides.confdir);
  return overrides as Partial<Options>;
}

function expandHome(path: string): string {
  return path === "~" || path.startsWith("~/") ? os.homedir() + path.slice(1) : path;
}

function optionsTable(): string {
  const lines = ["Options (set with --set name=value):", ""];
  for (const [name, spec] of Object.entries(OPTION_SPECS)) {
    const unit = spec.type === "seconds" ? " s" : "";
    lines.push(`  ${name} (${spec.type}, default ${JSON.stringify(spec.default)}${unit})`);
    lines.push(`      ${spec.help}`);
  }
  return lines.join("\n");
}

function isLoopback(host: string): boolean {
  return host === "localhost" || host === "::1" || host.startsWith("127.");
}

/** Runs the command line; resolves with the exit status. */
export async function main(argv: string[]): Promise<number> {
  const program = buildProgram();
  let flags: Flags;
  let overrides: Partial<Options>;
  try {
    program.parse(argv, { from: "user" });
    flags = program.opts<Flags>();
    overrides = optionsFromFlags(flags);
  } catch (e) {
    if (e instanceof CommanderError) {
      if (e.exitCode === 0) return 0; // --help or --version, already printed
      const message = e.message.replace(/^error: /, "").replace(/\s+/g, " ").replace(/\.$/, "");
      console.error(`mitm: ${message}. Run "mitm --help" for usage.`);
      return USAGE_ERROR;
    }
    if (e instanceof OptionError) {
      console.error(`mitm: ${e.message}. Run "mitm --options" for the list.`);
      return USAGE_ERROR;
    }
    throw e;
  }
  if (flags.options) {
    console.log(optionsTable());
    return 0;
  }

  const level: LogLevel = flags.quiet ? "error" : flags.verbose ? "debug" : "info";
  const log = createLogger(level, consoleSink);
  const options = resolveOptions({
    confdir: expandHome(OPTION_SPECS.confdir.default),
    ...overrides,
  });
  let proxy;
  try {
    proxy = await startProxy(options, { log });
  } catch (e) {
    const where = `${options.listen_host}:${options.listen_port}`;
    console.error(
      `mitm: cannot listen on ${where}: ${(e as Error).message}. ` +
        `Stop the program using it or choose another port with -p.`,
    );
    return 1;
  }

  const running = proxy;
  // Signal handlers go in before the address is printed: whoever reads the address may signal at
  // once, and without a handler the signal would kill the process instead of closing it.
  const exitCode = new Promise<number>((resolve) => {
    onShutdownSignal(async (signal, count) => {
      if (count > 1) return resolve(130); // a second signal while closing: exit at once
      log.info(`${signal}: shutting down`);
      await running.close();
      resolve(0);
    });
  });

  if (!isLoopback(proxy.address.host)) {
    log.warn(
      `warning: listening on ${proxy.address.host}, so anyone who can reach it can use this proxy.`,
    );
  }
  // One write, so that whoever watches the output sees the whole block at once.
  log.info(
    [
      `mitm.ts ${VERSION} (${runtime.name} ${runtime.version}) proxy listening at ${proxy.url}`,
      `Use it:  export HTTP_PROXY=${proxy.url} HTTPS_PROXY=${proxy.url}`,
      `   or:   curl -x ${proxy.url} http://example.com/`,
    ].join("\n"),
  );

  return await exitCode;
}
