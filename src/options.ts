import { parseFilter } from "./filter/mod.ts";
import { REPLAY_OPTION_SPECS } from "./replay/option_specs.ts";
import { REWRITE_OPTION_SPECS } from "./addons/builtin/rewrite_option_specs.ts";
import { modeProblem } from "./proxy/modes/spec.ts";
import { credentialsProblem } from "./proxy/layers/proxy_auth.ts";
import type { OptionType, Spec } from "./option_spec.ts";

export type { OptionType, Spec };

/** For filter options: null if `text` is a valid filter expression (or empty), else why not. */
function filterProblem(text: string): string | null {
  if (text === "") return null;
  try {
    parseFilter(text);
    return null;
  } catch (e) {
    return `is not a valid filter: ${(e as Error).message}`;
  }
}

/** For regex options: null if `text` compiles, else why not. */
function regexProblem(text: string): string | null {
  try {
    new RegExp(text);
    return null;
  } catch (e) {
    return `is not a valid regular expression (${(e as Error).message})`;
  }
}

function opt<T>(spec: Spec<T>): Spec<T> {
  return spec;
}

/**
 * Every option the proxy understands, in one registry: name (mitmproxy's name where it has one),
 * type, default and help. The CLI's flags and `--set name=value` both go through here.
 */
export const OPTION_SPECS = {
  listen_host: opt({
    type: "string",
    default: "127.0.0.1",
    help: "Address to listen on. Anything but loopback makes the proxy reachable by others.",
  }),
  listen_port: opt({
    type: "int",
    default: 8080,
    min: 0,
    max: 65535,
    help: "Port to listen on (0 picks a free one).",
  }),
  mode: opt({
    type: "strings",
    default: ["regular"] as string[],
    help: "Proxy modes, each with its own listener (repeatable): regular, socks5, transparent, " +
      "reverse:URL, upstream:URL; a trailing @port picks its port (else --listen-port).",
    check: modeProblem,
  }),
  keep_host_header: opt({
    type: "bool",
    default: false,
    help: "Reverse mode: send the client's Host header to the origin instead of the origin's.",
  }),
  upstream_auth: opt({
    type: "string",
    default: "",
    help: "Upstream mode: user:password sent to the upstream proxy (Proxy-Authorization: Basic).",
    check: credentialsProblem,
  }),
  proxyauth: opt({
    type: "string",
    default: "",
    help: "Require user:password from clients (HTTP 407 in regular and upstream modes, " +
      "RFC 1929 in socks5 mode).",
    check: credentialsProblem,
  }),
  confdir: opt({
    type: "string",
    default: "~/.mitm-ts",
    help: "Directory for the certificate authority and other state.",
  }),
  connect_timeout: opt({
    type: "seconds",
    default: 10,
    min: 0.001,
    help: "Give up connecting to an origin after this many seconds (502).",
  }),
  header_timeout: opt({
    type: "seconds",
    default: 30,
    min: 0.001,
    help: "A client must send a complete request head within this many seconds of its first byte.",
  }),
  idle_timeout: opt({
    type: "seconds",
    default: 60,
    min: 0.001,
    help: "Close a client connection that sends nothing for this many seconds between requests.",
  }),
  origin_idle_timeout: opt({
    type: "seconds",
    default: 30,
    min: 0.001,
    help: "Close a pooled origin connection after this many idle seconds.",
  }),
  read_timeout: opt({
    type: "seconds",
    default: 60,
    min: 0,
    help: "Give up waiting for an origin's response head after this many seconds, counted from " +
      "when the whole request was sent (504); 0 waits for ever.",
  }),
  body_timeout: opt({
    type: "seconds",
    default: 60,
    min: 0,
    help: "Give up on a request or response body that brings no bytes for this many seconds: a " +
      "stalled upload gets 408 (or, once answering has begun, both connections close), a " +
      "stalled download closes both; 0 waits for ever.",
  }),
  max_connections: opt({
    type: "int",
    default: 10000,
    min: 0,
    max: 10_000_000,
    help: "Most client connections open at once, 0 for no limit. Past it a new connection gets " +
      "503 and is closed (regular and upstream modes; other modes just close it).",
  }),
  max_head_bytes: opt({
    type: "int",
    default: 64 * 1024,
    min: 1024,
    max: 16 * 1024 * 1024,
    help: "Largest request or response head accepted (requests over it get 431).",
  }),
  max_header_count: opt({
    type: "int",
    default: 256,
    min: 1,
    max: 65536,
    help: "Most header fields accepted in one head.",
  }),
  body_size_limit: opt({
    type: "size",
    default: 0,
    min: 0,
    help: "Largest request or response body passed on, 0 for no limit (k, m, g suffixes). A " +
      "request over it gets 413, a response 502; bodies without a length are counted as they pass.",
  }),
  upstream_cert: opt({
    type: "bool",
    default: true,
    help: "Copy the origin certificate's names into the generated one (connects to the origin " +
      "before finishing the client's handshake).",
  }),
  ssl_insecure: opt({
    type: "bool",
    default: false,
    help: "Do not verify origin certificates (-k).",
  }),
  ssl_verify_upstream_trusted_ca: opt({
    type: "string",
    default: "",
    help:
      "PEM file with CA certificates to trust for origins, added to the default trust (bundled roots, OS store, NODE_EXTRA_CA_CERTS).",
  }),
  ignore_hosts: opt({
    type: "strings",
    default: [] as string[],
    help: "Regexes of host:port or SNI to pass through untouched (repeatable).",
    check: regexProblem,
  }),
  allow_hosts: opt({
    type: "strings",
    default: [] as string[],
    help: "Regexes of host:port or SNI to intercept; everything else passes through (repeatable).",
    check: regexProblem,
  }),
  keylog_file: opt({
    type: "string",
    default: "",
    help: "Append TLS key-log lines (NSS format) here for Wireshark; SSLKEYLOGFILE also works.",
  }),
  tls_handshake_timeout: opt({
    type: "seconds",
    default: 10,
    min: 0.001,
    help: "Give up on a TLS handshake (client or origin side) after this many seconds.",
  }),
  stream_large_bodies: opt({
    type: "size",
    default: 4 * 1024 * 1024,
    min: 0,
    help: "Bodies larger than this stream through without being kept on the flow or buffered " +
      "for addons (bytes; k, m, g suffixes).",
  }),
  flow_detail: opt({
    type: "int",
    default: 1,
    min: 0,
    max: 3,
    help: "Terminal output: 0 none, 1 one line per flow, 2 with headers, 3 with bodies.",
  }),
  view_filter: opt({
    type: "string",
    default: "",
    help: "Show only flows matching this filter expression (the FILTER argument).",
    check: filterProblem,
  }),
  record: opt({
    type: "string",
    default: "",
    help: "Append each finished flow to this file as a JSON line (-w, --record).",
  }),
  record_filter: opt({
    type: "string",
    default: "",
    help: "Record only flows matching this filter expression.",
    check: filterProblem,
  }),
  hardump: opt({
    type: "string",
    default: "",
    help: "Write every flow to this HAR file when the proxy stops.",
  }),
  intercept: opt({
    type: "string",
    default: "",
    help: "Pause flows matching this filter expression at request and at response, until the " +
      "web UI or the API resumes or kills them.",
    check: filterProblem,
  }),
  flow_store_max_bytes: opt({
    type: "size",
    default: 2 * 1024 * 1024 * 1024,
    min: 0,
    help: "Disk the web UI and API's flow store may take (k, m, g suffixes); past it the oldest " +
      "flows are dropped and counted. Replaces max_flows and max_flow_bytes.",
  }),
  flow_store_writer: opt({
    type: "string",
    // inline by default: the worker takes half the store's work off the proxy's thread but no
    // CPU in all, and on 2 busy cores both did the same requests a second, inline with a few MB
    // less memory (docs/BENCHMARKS.md, the flow store).
    default: "inline",
    help: "Where the flow store writes its batches: inline (on the proxy's thread, in one " +
      "transaction every 250 ms) or worker (rows and SQLite on a thread of its own; the proxy's " +
      "thread only copies each flow).",
    check: (v) => v === "worker" || v === "inline" ? null : 'is not "worker" or "inline"',
  }),
  save_session: opt({
    type: "string",
    default: "",
    help: "Keep the flow store in this file (an SQLite session that `mitm web FILE` opens) " +
      "instead of a temporary one removed at exit (--save-session).",
  }),
  web_host: opt({
    type: "string",
    default: "127.0.0.1",
    help: "Address the web UI and API listen on. Anything but loopback lets others control the " +
      "proxy if they learn the token.",
  }),
  web_port: opt({
    type: "int",
    default: 8081,
    min: 0,
    max: 65535,
    help: "Port of the web UI and API (0 picks a free one).",
  }),
  web: opt({
    type: "bool",
    default: true,
    help: "Serve the web UI and API (--no-web turns it off).",
  }),
  http2: opt({
    type: "bool",
    default: true,
    help: "Offer HTTP/2 to clients and origins (ALPN h2, h2c).",
  }),
  origin_pool_size: opt({
    type: "int",
    default: 64,
    min: 0,
    max: 100000,
    help: "Idle connections kept per origin for reuse (0 disables pooling).",
  }),
  protobuf_definitions: opt({
    type: "string",
    default: "",
    help: "A .proto file or a directory of them: protobuf and gRPC bodies are shown with field " +
      "and enum names (the type from the gRPC path, or a proto=/messageType= content-type " +
      "parameter). Reloaded when a file changes; a mistake is a warning and bodies are shown " +
      "without a schema.",
  }),
  ...REPLAY_OPTION_SPECS,
  ...REWRITE_OPTION_SPECS,
};

export type OptionName = keyof typeof OPTION_SPECS;

export type Options = {
  -readonly [K in OptionName]: (typeof OPTION_SPECS)[K]["default"];
};

export class OptionError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "OptionError";
  }
}

export function defaultOptions(): Options {
  const out = {} as Record<string, unknown>;
  for (const [name, spec] of Object.entries(OPTION_SPECS)) {
    out[name] = Array.isArray(spec.default) ? [...spec.default] : spec.default;
  }
  return out as Options;
}

export function isOptionName(name: string): name is OptionName {
  return Object.hasOwn(OPTION_SPECS, name);
}

/** Parses the text of `--set name=value` for one option; throws OptionError with one line. */
export function parseOptionValue(name: string, text: string): Options[OptionName] {
  if (!isOptionName(name)) {
    throw new OptionError(`unknown option "${name}"`);
  }
  const spec: Spec<unknown> = OPTION_SPECS[name];
  switch (spec.type) {
    case "string": {
      const problem = spec.check?.(text);
      if (problem) throw new OptionError(`option ${name}: "${text}" ${problem}`);
      return text as never;
    }
    case "strings": {
      const problem = spec.check?.(text);
      if (problem) throw new OptionError(`option ${name}: "${text}" ${problem}`);
      return [text] as never;
    }
    case "bool": {
      const t = text.toLowerCase();
      if (["true", "1", "yes", "on"].includes(t)) return true as never;
      if (["false", "0", "no", "off"].includes(t)) return false as never;
      throw new OptionError(`option ${name} expects true or false, got "${text}"`);
    }
    case "size": {
      const m = /^([0-9]+(?:\.[0-9]+)?)\s*([kmg]?)b?$/i.exec(text.trim());
      if (!m) {
        throw new OptionError(`option ${name} expects a size like 4m or 65536, got "${text}"`);
      }
      const unit = { "": 1, k: 1024, m: 1024 ** 2, g: 1024 ** 3 }[m[2].toLowerCase() as "" | "k"];
      const n = Math.round(Number(m[1]) * unit);
      checkRange(name, spec, n);
      return n as never;
    }
    case "int":
    case "seconds": {
      const pattern = spec.type === "int" ? /^-?[0-9]+$/ : /^-?[0-9]+(\.[0-9]+)?$/;
      if (!pattern.test(text.trim())) {
        const what = spec.type === "int" ? "a whole number" : "a number of seconds";
        throw new OptionError(`option ${name} expects ${what}, got "${text}"`);
      }
      const n = Number(text);
      checkRange(name, spec, n);
      return n as never;
    }
  }
}

function checkRange(name: string, spec: Spec<unknown>, n: number): void {
  if (spec.min !== undefined && n < spec.min) {
    throw new OptionError(`option ${name} must be at least ${spec.min}, got ${n}`);
  }
  if (spec.max !== undefined && n > spec.max) {
    throw new OptionError(`option ${name} must be at most ${spec.max}, got ${n}`);
  }
}

/** Defaults overlaid with `overrides`, each checked against its spec. */
export function resolveOptions(overrides: Partial<Options> = {}): Options {
  const options = defaultOptions();
  for (const [name, value] of Object.entries(overrides)) {
    if (value === undefined) continue;
    if (!isOptionName(name)) throw new OptionError(`unknown option "${name}"`);
    const spec: Spec<unknown> = OPTION_SPECS[name];
    if (spec.type === "strings") {
      if (!Array.isArray(value) || value.some((v) => typeof v !== "string")) {
        throw new OptionError(`option ${name} expects a list of strings`);
      }
      for (const v of value) {
        const problem = spec.check?.(v);
        if (problem) throw new OptionError(`option ${name}: "${v}" ${problem}`);
      }
      (options as Record<string, unknown>)[name] = [...value];
      continue;
    }
    const expected = spec.type === "string"
      ? "string"
      : spec.type === "bool"
      ? "boolean"
      : "number";
    const actual: string = typeof value;
    if (actual !== expected) {
      throw new OptionError(`option ${name} expects a ${expected}, got ${typeof value}`);
    }
    if (expected === "string") {
      const problem = spec.check?.(value as string);
      if (problem) throw new OptionError(`option ${name}: "${value}" ${problem}`);
    }
    if (expected === "number") checkRange(name, spec, value as number);
    (options as Record<string, unknown>)[name] = value;
  }
  return options;
}
