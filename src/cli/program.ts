/**
 * The command-line grammar, built with commander (README says why): `mitm [options]` runs the
 * proxy; `mitm ca path` and `mitm ca export` work with the certificate authority.
 */
import { Command, Option } from "commander";
import { VERSION } from "../version.ts";

export interface Flags {
  listenHost?: string;
  listenPort?: string;
  mode?: string[];
  confdir?: string;
  quiet?: boolean;
  verbose?: boolean;
  set?: string[];
  options?: boolean;
  sslInsecure?: boolean;
  ignoreHosts?: string[];
  allowHosts?: string[];
  scripts?: string[];
  record?: string;
  recordFilter?: string;
  read?: string;
  web?: boolean;
  webHost?: string;
  webPort?: string;
  apiToken?: string;
  serverReplay?: string[];
  clientReplay?: string[];
  mapLocal?: string[];
  mapRemote?: string[];
  modifyHeaders?: string[];
  modifyBody?: string[];
  blockList?: string[];
  anticache?: boolean;
  anticomp?: boolean;
}

export type Invocation =
  | { command: "proxy"; flags: Flags; filter: string }
  | { command: "console"; flags: Flags; filter: string }
  | { command: "read"; flags: Flags; file: string; filter: string; detail?: string }
  | { command: "har"; flags: Flags; file: string; filter: string; out?: string }
  | { command: "replay"; flags: Flags; files: string[]; concurrency?: string }
  | { command: "mcp"; flags: Flags; api?: string }
  | { command: "ca-path"; flags: Flags }
  | { command: "ca-export"; flags: Flags; format: string };

const repeatable = (v: string, prev: string[] = []) => [...prev, v];

/** A parser that records what was asked for in `out` instead of running it. */
export function buildProgram(out: { invocation?: Invocation }): Command {
  const program = new Command("mitm")
    .description("mitm.ts - an intercepting HTTP/HTTPS proxy for Deno and Bun")
    .version(`mitm.ts ${VERSION}`, "--version", "print the version and exit")
    .helpOption("-h, --help", "show this help and exit")
    .option("--listen-host <host>", "address to listen on (default 127.0.0.1)")
    .option("-p, --listen-port <port>", "port to listen on (default 8080)")
    .addOption(
      new Option(
        "--mode <mode>",
        "regular, socks5, transparent, reverse:URL or upstream:URL, with @port (repeatable)",
      ).argParser(repeatable),
    )
    .option("--confdir <dir>", "directory for the CA and other state (default ~/.mitm-ts)")
    .option("-q, --quiet", "print only errors")
    .option("-v, --verbose", "print debug detail (connections, each request line)")
    .option("-k, --ssl-insecure", "do not verify origin certificates")
    .addOption(
      new Option("--ignore-hosts <regex>", "pass matching host:port or SNI through (repeatable)")
        .argParser(repeatable),
    )
    .addOption(
      new Option("--allow-hosts <regex>", "intercept only matching host:port or SNI (repeatable)")
        .argParser(repeatable),
    )
    .addOption(
      new Option(
        "-s, --scripts <file>",
        "load an addon script, reloaded when it changes (repeatable)",
      )
        .argParser(repeatable),
    )
    .addOption(
      new Option("--set <name=value>", "set any option (repeatable); see --options")
        .argParser(repeatable),
    )
    .option("-w, --record <file>", "append each finished flow to FILE as a JSON line")
    .option("--record-filter <expr>", "record only flows matching this filter")
    .option("-r, --read <file>", "print the flows in a recording (or HAR) and exit")
    .option("--web-host <host>", "address of the web UI and API (default 127.0.0.1)")
    .option("--web-port <port>", "port of the web UI and API (default 8081)")
    .option("--no-web", "do not serve the web UI and API")
    .option("--api-token <token>", "API token (default: MITM_API_TOKEN, else a random one)")
    .addOption(
      new Option("-S, --server-replay <file>", "answer requests from this recording (repeatable)")
        .argParser(repeatable),
    )
    .addOption(
      new Option("-C, --client-replay <file>", "send this recording's requests again (repeatable)")
        .argParser(repeatable),
    )
    .addOption(
      new Option("--map-local <spec>", "|filter|url-regex|path: answer from local files")
        .argParser(repeatable),
    )
    .addOption(
      new Option("-M, --map-remote <spec>", "|filter|url-regex|replacement: rewrite URLs")
        .argParser(repeatable),
    )
    .addOption(
      new Option("-H, --modify-headers <spec>", "/filter/name/value: set or delete a header")
        .argParser(repeatable),
    )
    .addOption(
      new Option("-B, --modify-body <spec>", "/filter/regex/replacement: rewrite bodies")
        .argParser(repeatable),
    )
    .addOption(
      new Option("--block-list <spec>", "/filter/status: answer matching requests with a status")
        .argParser(repeatable),
    )
    .option("--anticache", "remove If-None-Match and If-Modified-Since from requests")
    .option("--anticomp", "ask origins for uncompressed responses")
    .option("--options", "list every option with its default (and the value given) and exit")
    .argument("[filter...]", "show only flows matching this filter expression")
    .showSuggestionAfterError(true)
    .allowExcessArguments(false)
    .exitOverride()
    .configureOutput({ writeErr: () => {}, outputError: () => {} })
    .action((filter: string[]) => {
      const flags = program.opts<Flags>();
      out.invocation = flags.read !== undefined
        ? { command: "read", flags, file: flags.read, filter: filter.join(" ") }
        : { command: "proxy", flags, filter: filter.join(" ") };
    });

  program.command("console")
    .description("run the proxy with an interactive terminal UI (? in it lists the keys)")
    .argument("[filter...]", "list only flows matching this filter expression")
    .exitOverride()
    .action((filter: string[]) => {
      out.invocation = {
        command: "console",
        flags: program.opts<Flags>(),
        filter: filter.join(" "),
      };
    });

  program.command("read")
    .description("print the flows in a recording (or a HAR file) like the live output")
    .argument("<file>", "a --record file (JSON lines) or a HAR file")
    .argument("[filter...]", "show only flows matching this filter expression")
    .option("-d, --detail <n>", "0 nothing, 1 one line per flow, 2 with headers, 3 with bodies")
    .exitOverride()
    .action((file: string, filter: string[], opts: { detail?: string }) => {
      out.invocation = {
        command: "read",
        flags: program.opts<Flags>(),
        file,
        filter: filter.join(" "),
        detail: opts.detail,
      };
    });
  program.command("har")
    .description("convert a recording to HAR 1.2")
    .argument("<file>", "a --record file (JSON lines) or a HAR file")
    .argument("[filter...]", "convert only flows matching this filter expression")
    .option("-o, --output <file>", "write here instead of standard output")
    .exitOverride()
    .action((file: string, filter: string[], opts: { output?: string }) => {
      out.invocation = {
        command: "har",
        flags: program.opts<Flags>(),
        file,
        filter: filter.join(" "),
        out: opts.output,
      };
    });

  program.command("replay")
    .description("send the requests of recordings again, print each result, exit 1 if any failed")
    .argument("<file...>", "--record files (JSON lines) or HAR files")
    .option("-c, --concurrency <n>", "requests in flight at once (default 1)")
    .exitOverride()
    .action((files: string[], opts: { concurrency?: string }) => {
      out.invocation = {
        command: "replay",
        flags: program.opts<Flags>(),
        files,
        concurrency: opts.concurrency,
      };
    });

  program.command("mcp")
    .description("serve the MCP tools for AI agents on stdin/stdout (docs/mcp.md)")
    .option("--api <url>", "use the running proxy whose web UI is at URL, not a new one")
    .exitOverride()
    .action((opts: { api?: string }) => {
      out.invocation = { command: "mcp", flags: program.opts<Flags>(), api: opts.api };
    });

  const ca = program.command("ca")
    .description("the certificate authority clients must trust")
    .exitOverride()
    .configureOutput({ writeErr: () => {}, outputError: () => {} });
  ca.command("path")
    .description("print the path of the CA certificate (PEM) to give to clients")
    .option("--confdir <dir>", "directory for the CA (default ~/.mitm-ts)")
    .exitOverride()
    .action((opts: Flags) => {
      out.invocation = { command: "ca-path", flags: { ...program.opts<Flags>(), ...opts } };
    });
  ca.command("export")
    .description("write the CA certificate to standard output")
    .addOption(
      new Option("--format <format>", "pem or der").choices(["pem", "der"]).default("pem"),
    )
    .option("--confdir <dir>", "directory for the CA (default ~/.mitm-ts)")
    .exitOverride()
    .action((opts: Flags & { format: string }) => {
      out.invocation = {
        command: "ca-export",
        flags: { ...program.opts<Flags>(), ...opts },
        format: opts.format,
      };
    });
  return program;
}
