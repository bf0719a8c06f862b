/**
 * The command line: parse, then run the proxy or a `ca` subcommand. Usage errors print one line
 * and exit with 2.
 */
import { CommanderError } from "commander";
import process from "node:process";
import { dumper } from "../addons/builtin/dumper.ts";
import { type Filter, parseFilter } from "../filter/mod.ts";
import { harCommand, readCommand, ReadError } from "./read_commands.ts";
import { CaFileError, expandHome, loadOrCreateCa } from "../ca/mod.ts";
import { consoleSink, createLogger, type LogLevel } from "../log.ts";
import { EventLog } from "../api/event_log.ts";
import {
  OPTION_SPECS,
  OptionError,
  type OptionName,
  type Options,
  parseOptionValue,
  resolveOptions,
} from "../options.ts";
import type { ModeListener } from "../proxy/server.ts";
import { formatAuthority } from "../http1/mod.ts";
import { onShutdownSignal, runtime } from "../runtime/mod.ts";
import { VERSION } from "../version.ts";
import { buildProgram, type Flags, type Invocation } from "./program.ts";
import { startProxyAndWeb } from "./proxy_start.ts";
import { runConsole } from "./console_command.ts";
import { checkRecordFile, StartupError, startupFsError } from "./startup_checks.ts";
import { StdoutClosed, stdoutWriter } from "./stdout.ts";
import { mistypedCommand, PENDING_SUBCOMMANDS } from "./typos.ts";
import type { FlowStore } from "../api/store.ts";
import { openForWeb, StoreFileError } from "../store/open_file.ts";
import { loadClientReplay, replayCommand, replayInBackground } from "./replay_command.ts";
import { runCommand } from "./run_command.ts";
import { diffCommand } from "./diff_command.ts";
import { browserCommand } from "./browser_command.ts";
import { loadProtobufDefinitions } from "./proto_definitions.ts";

/** Exit status for usage errors (unknown flag, bad value), as in mitmproxy and most Unix tools. */
export const USAGE_ERROR = 2;

/** Flags and --set pairs as option overrides; throws OptionError for bad values. */
export function optionsFromFlags(flags: Flags): Partial<Options> {
  const overrides: Record<string, unknown> = {};
  const set = (name: string, value: unknown) => {
    // List options accumulate over repeated flags.
    const prev = overrides[name];
    overrides[name] = Array.isArray(prev) && Array.isArray(value) ? [...prev, ...value] : value;
  };
  for (const pair of flags.set ?? []) {
    const eq = pair.indexOf("=");
    if (eq <= 0) throw new OptionError(`--set expects name=value, got "${pair}"`);
    const name = pair.slice(0, eq);
    set(name, parseOptionValue(name, pair.slice(eq + 1)));
  }
  const flag = (name: OptionName, value: string | undefined) => {
    if (value !== undefined) set(name, parseOptionValue(name, value));
  };
  flag("listen_host", flags.listenHost);
  flag("listen_port", flags.listenPort);
  flag("confdir", flags.confdir);
  flag("record", flags.record);
  flag("record_filter", flags.recordFilter);
  flag("web_host", flags.webHost);
  flag("web_port", flags.webPort);
  flag("save_session", flags.saveSession);
  if (flags.web === false) overrides.web = false;
  for (const m of flags.mode ?? []) flag("mode", m);
  for (const r of flags.ignoreHosts ?? []) flag("ignore_hosts", r);
  for (const r of flags.allowHosts ?? []) flag("allow_hosts", r);
  for (const f of flags.serverReplay ?? []) flag("server_replay", f);
  for (const f of flags.clientReplay ?? []) flag("client_replay", f);
  for (const s of flags.mapLocal ?? []) flag("map_local", s);
  for (const s of flags.mapRemote ?? []) flag("map_remote", s);
  for (const s of flags.modifyHeaders ?? []) flag("modify_headers", s);
  for (const s of flags.modifyBody ?? []) flag("modify_body", s);
  for (const s of flags.blockList ?? []) flag("block_list", s);
  if (flags.anticache) overrides.anticache = true;
  if (flags.anticomp) overrides.anticomp = true;
  if (flags.sslInsecure) overrides.ssl_insecure = true;
  overrides.confdir = expandHome(
    typeof overrides.confdir === "string" ? overrides.confdir : OPTION_SPECS.confdir.default,
  );
  return overrides as Partial<Options>;
}

/** Every option with its default, and the value given on this command line where there is one. */
function optionsTable(given: Partial<Options>): string {
  const lines = ["Options (set with --set name=value):", ""];
  for (const [name, spec] of Object.entries(OPTION_SPECS)) {
    const unit = spec.type === "seconds" ? " s" : "";
    const repeat = spec.type === "strings" ? ", repeatable" : "";
    const value = (given as Record<string, unknown>)[name];
    const set = value === undefined ? "" : `, set to ${JSON.stringify(value)}${unit}`;
    lines.push(
      `  ${name} (${spec.type}, default ${JSON.stringify(spec.default)}${unit}${repeat}${set})`,
    );
    lines.push(`      ${spec.help}`);
  }
  return lines.join("\n");
}

function isLoopback(host: string): boolean {
  return host === "localhost" || host === "::1" || host.startsWith("127.");
}

/** "proxy listening at http://127.0.0.1:8080", one per mode, saying what the mode does. */
function listeningLine(l: ModeListener): string {
  const m = l.mode;
  switch (m.kind) {
    case "regular":
      return `proxy listening at ${l.url}`;
    case "socks5":
      return `socks5 proxy listening at ${l.url}`;
    case "transparent":
      return `transparent proxy listening at ${l.url}`;
    case "reverse":
      return `reverse proxy for ${m.scheme}://${formatAuthority(m.host, m.port)} listening at ` +
        `${l.url} (http and https)`;
    case "upstream":
      return `proxy (upstream ${m.scheme}://${formatAuthority(m.host, m.port)}) listening at ` +
        l.url;
  }
}

/** Runs the command line; resolves with the exit status. */
export async function main(argv: string[]): Promise<number> {
  const parsed: { invocation?: Invocation } = {};
  let options: Options;
  try {
    const program = buildProgram(parsed);
    program.parse(argv, { from: "user" });
    const invocation = parsed.invocation!;
    const flags = invocation.flags;
    if (invocation.command === "proxy" || (invocation.command === "read" && flags.read)) {
      const word = invocation.filter.trim().split(/\s+/)[0];
      const commands = [...program.commands.map((c) => c.name()), ...PENDING_SUBCOMMANDS];
      const meant = mistypedCommand(word, commands);
      if (meant !== null) {
        console.error(
          `mitm: "${word}" is not a command; did you mean "mitm ${meant}"? ` +
            `To show only flows whose URL matches "${word}", write the filter as "~u ${word}".`,
        );
        return USAGE_ERROR;
      }
    }
    if (invocation.command === "run" && !argv.includes("--")) {
      // Without it the command's own options would be read as ours (curl -s as --scripts).
      return usageError(
        `"run" needs -- before the command, as in: mitm run -w flows.jsonl -- curl -s URL`,
        "--help",
      );
    }
    if (flags.options) {
      // With --set (or flags), says what those would set: a bad value is the usual usage error.
      const given = optionsFromFlags(flags);
      if (given.confdir === expandHome(OPTION_SPECS.confdir.default)) delete given.confdir;
      console.log(optionsTable(given));
      return 0;
    }
    const overrides = optionsFromFlags(flags);
    if ("filter" in invocation && invocation.filter !== "") {
      overrides.view_filter = parseOptionValue("view_filter", invocation.filter) as string;
    }
    if (invocation.command === "replay" && invocation.concurrency !== undefined) {
      overrides.client_replay_concurrency = parseOptionValue(
        "client_replay_concurrency",
        invocation.concurrency,
      ) as number;
    }
    if (invocation.command === "read" && invocation.detail !== undefined) {
      overrides.flow_detail = parseOptionValue("flow_detail", invocation.detail) as number;
    }
    options = resolveOptions(overrides);
  } catch (e) {
    if (e instanceof CommanderError) {
      if (e.exitCode === 0) return 0; // --help or --version, already printed
      if (e.code === "commander.help") {
        // A command that needs a subcommand was given none ("mitm ca").
        console.error(
          `mitm: "ca" needs a subcommand: path or export. Run "mitm ca --help" for usage.`,
        );
        return USAGE_ERROR;
      }
      return usageError(e.message.replace(/^error: /, ""), "--help");
    }
    if (e instanceof OptionError) return usageError(e.message, "--options");
    throw e;
  }
  const viewFilter = options.view_filter ? parseFilter(options.view_filter) : null;
  try {
    const invocation = parsed.invocation!;
    // The console shows the warning in its own event log (a line on stderr would tear the screen).
    if (invocation.command !== "console") loadProtobufDefinitions(options);
    switch (invocation.command) {
      case "proxy":
        return await runProxy(
          options,
          invocation.flags,
          viewFilter,
          webPortChosen(invocation.flags),
        );
      case "console":
        return await runConsole(
          options,
          invocation.flags,
          viewFilter,
          webPortChosen(invocation.flags),
        );
      case "web": {
        if (!options.web) {
          return usageError('"mitm web FILE" shows FILE in the web UI: drop --no-web', "--help");
        }
        let opened;
        try {
          opened = await openForWeb(invocation.file, {
            file: options.save_session || undefined,
            maxBytes: options.flow_store_max_bytes,
            chunkSize: options.stream_large_bodies,
            inlineWriter: options.flow_store_writer === "inline",
          });
        } catch (e) {
          if (!(e instanceof StoreFileError)) throw e;
          console.error(`mitm: ${e.message}.`);
          return 1;
        }
        if (opened.skipped > 0) {
          console.error(
            `mitm: ${invocation.file}: skipped ${opened.skipped} lines that are not flows`,
          );
        }
        return await runProxy(
          options,
          invocation.flags,
          viewFilter,
          webPortChosen(invocation.flags),
          opened.store,
        );
      }
      case "read":
        await readCommand(invocation.file, viewFilter, options.flow_detail, useColor());
        return 0;
      case "har": {
        const n = await harCommand(
          invocation.file,
          viewFilter,
          invocation.out,
          options.stream_large_bodies,
        );
        if (invocation.out !== undefined) {
          console.error(`mitm: wrote ${n} flows to ${invocation.out}`);
        }
        return 0;
      }
      case "replay": {
        const level: LogLevel = invocation.flags.quiet ? "error" : "info";
        const log = createLogger(level, consoleSink);
        return await replayCommand(invocation.files, options, log, useColor());
      }
      case "mcp": {
        // Loaded only for this command: the MCP SDK and zod cost every other start ~11 MB of RSS.
        const { mcpCommand } = await import("./mcp_command.ts");
        return await mcpCommand(
          options,
          invocation.flags,
          invocation.api,
          webPortChosen(invocation.flags),
        );
      }
      case "run":
        return await runCommand(options, invocation.flags, invocation.argv, viewFilter);
      case "browser":
        return await browserCommand(
          options,
          invocation.flags,
          invocation.args,
          invocation.headless === true,
          viewFilter,
        );
      case "diff":
        return diffCommand(invocation.a, invocation.b, options, {
          json: invocation.json,
          ignoreHeaders: invocation.ignore,
        });
      case "ca-path":
        console.log((await loadOrCreateCa(options.confdir)).certPemFile);
        return 0;
      case "ca-export": {
        const { ca } = await loadOrCreateCa(options.confdir);
        const format = (parsed.invocation as { format: string }).format;
        process.stdout.write(format === "der" ? ca.certDer : ca.certPem);
        return 0;
      }
    }
  } catch (e) {
    if (e instanceof OptionError) return usageError(e.message, "--options");
    if (e instanceof StdoutClosed) return 0; // the reader of a pipe had enough (| head)
    if (e instanceof StartupError) {
      console.error(`mitm: ${e.message}.`);
      return e.exitCode;
    }
    const fsError = startupFsError(e, options.confdir);
    if (fsError !== null) {
      console.error(`mitm: ${fsError.message}.`);
      return fsError.exitCode;
    }
    if (e instanceof ReadError) {
      console.error(`mitm: ${e.message}.`);
      return 1;
    }
    if (e instanceof CaFileError) {
      console.error(`mitm: ${e.message}.`);
      return 1;
    }
    throw e;
  }
}

function usageError(message: string, help: string): number {
  const line = message.replace(/\s+/g, " ").replace(/\.$/, "");
  console.error(
    `mitm: ${line}. Run "mitm ${help}" for ${help === "--help" ? "usage" : "the list"}.`,
  );
  return USAGE_ERROR;
}

/** Colour only for a terminal, and never with NO_COLOR set (https://no-color.org). */
function useColor(): boolean {
  return Boolean(process.stdout.isTTY) && !process.env.NO_COLOR;
}

/** Whether the API token came from --api-token or MITM_API_TOKEN rather than being random. */
function tokenWasGiven(flag: string | undefined): boolean {
  return Boolean(flag ?? process.env.MITM_API_TOKEN);
}

/** Whether the user asked for a web port (then a busy one is an error, not a warning). */
function webPortChosen(flags: Flags): boolean {
  return flags.webPort !== undefined || (flags.set ?? []).some((s) => s.startsWith("web_port="));
}

async function runProxy(
  options: Options,
  flags: Flags,
  viewFilter: Filter | null,
  webPortChosen: boolean,
  store?: FlowStore,
): Promise<number> {
  const level: LogLevel = flags.quiet ? "error" : flags.verbose ? "debug" : "info";
  // What the console prints is also kept for the web UI's event log.
  const eventLog = new EventLog();
  const log = createLogger(level, eventLog.tee(consoleSink));
  const output = flags.quiet ? [] : [
    dumper({
      detail: options.flow_detail,
      filter: viewFilter,
      color: useColor(),
      write: stdoutWriter(() =>
        log.warn("standard output is closed; flows are no longer printed (the proxy carries on)")
      ),
    }),
  ];
  if (options.record) checkRecordFile(options.record, USAGE_ERROR);
  if (options.intercept && !options.web) {
    log.warn(
      `warning: --set intercept does nothing with --no-web: nothing could resume paused flows ` +
        `(the web UI and its API do that), so no flow is paused.`,
    );
  }
  // Read before starting, so that a missing file is a usage error, not a half-started proxy.
  const replaying = options.client_replay.length > 0
    ? loadClientReplay(options.client_replay)
    : null;
  const started = await startProxyAndWeb(options, flags, output, log, webPortChosen, {}, {
    store,
    eventLog,
  });
  if (typeof started === "number") return started;
  const { proxy, web } = started;
  // Signal handlers go in before the address is printed: whoever reads the address may signal at
  // once, and without a handler the signal would kill the process instead of closing it.
  const exitCode = new Promise<number>((resolve) => {
    onShutdownSignal(async (signal, count) => {
      if (count > 1) return resolve(130); // a second signal while closing: exit at once
      log.info(`${signal}: shutting down`);
      await web?.close(); // first: it releases paused flows, which would hold up the proxy
      await proxy.close();
      resolve(0);
    });
  });

  if (web && !isLoopback(web.address.host)) {
    log.warn(
      `warning: the web UI listens on ${web.address.host}; anyone who can reach it and learns ` +
        `the token can control the proxy and read its traffic.`,
    );
  }
  if (!isLoopback(proxy.address.host) && !options.proxyauth) {
    log.warn(
      `warning: listening on ${proxy.address.host}, so anyone who can reach it can use this ` +
        `proxy; --set proxyauth=user:pass requires a password.`,
    );
  }
  // One write, so that whoever watches the output sees the whole block at once.
  const [first, ...more] = proxy.listeners.map(listeningLine);
  const explicit = proxy.listeners.some((l) =>
    l.mode.kind === "regular" || l.mode.kind === "upstream"
  );
  log.info(
    [
      `mitm.ts ${VERSION} (${runtime.name} ${runtime.version}) ${first}`,
      ...more,
      ...(explicit
        ? [
          `Use it:  export HTTP_PROXY=${proxy.url} HTTPS_PROXY=${proxy.url}`,
          `   or:   curl -x ${proxy.url} http://example.com/`,
        ]
        : []),
      `HTTPS:   clients must trust ${proxy.ca.files.certPemFile} (see http://mitm.it)`,
      ...(options.view_filter && !flags.quiet
        ? [`Showing: only flows matching the filter ${JSON.stringify(options.view_filter)}`]
        : []),
      // A token the user chose is not echoed (logs are often shared); a random one must be.
      ...(web ? [`Web UI:  ${tokenWasGiven(flags.apiToken) ? web.url : web.uiUrl}`] : []),
    ].join("\n"),
  );

  if (replaying !== null) {
    replayInBackground(proxy, replaying, options.client_replay_concurrency, log);
  }
  return await exitCode;
}
