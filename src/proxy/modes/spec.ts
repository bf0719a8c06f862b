/**
 * Proxy modes as mitmproxy writes them: `regular`, `socks5`, `transparent`,
 * `reverse:URL`, `upstream:URL`, each optionally ending in `@port` (its own listener there).
 *
 * ```ts
 * parseMode("reverse:https://example.com@8443");
 * // { kind: "reverse", scheme: "https", host: "example.com", port: 443, listenPort: 8443, text: ... }
 * ```
 */

/** An origin or upstream proxy named by a URL in a mode. */
export interface ModeServer {
  scheme: "http" | "https";
  host: string;
  port: number;
}

export type ModeSpec =
  & { text: string; listenPort: number | null }
  & (
    | { kind: "regular" | "socks5" | "transparent" }
    | ({ kind: "reverse" } & ModeServer)
    | ({ kind: "upstream" } & ModeServer)
  );

export type ModeKind = ModeSpec["kind"];

/** A mode string that cannot be used, with what is wrong. */
export class ModeError extends Error {}

/** Parses one mode; throws ModeError with one line saying what is wrong. */
export function parseMode(text: string): ModeSpec {
  const at = /@(\d+)$/.exec(text);
  const body = at ? text.slice(0, at.index) : text;
  const listenPort = at ? Number(at[1]) : null;
  if (listenPort !== null && listenPort > 65535) {
    throw new ModeError(`mode "${text}": port ${listenPort} is out of range`);
  }
  const colon = body.indexOf(":");
  const kind = colon < 0 ? body : body.slice(0, colon);
  const arg = colon < 0 ? null : body.slice(colon + 1);
  switch (kind) {
    case "regular":
    case "socks5":
    case "transparent":
      if (arg !== null) throw new ModeError(`mode "${text}": ${kind} takes no URL`);
      return { kind, text, listenPort };
    case "reverse":
    case "upstream": {
      if (!arg) {
        throw new ModeError(`mode "${text}": ${kind} needs a URL, as in ${kind}:${EXAMPLE[kind]}`);
      }
      return { kind, text, listenPort, ...parseServer(text, kind, arg) };
    }
    default:
      throw new ModeError(
        `mode "${text}": is not a mode; use regular, socks5, transparent, reverse:URL or upstream:URL`,
      );
  }
}

const EXAMPLE = { reverse: "https://example.com", upstream: "http://proxy.example:3128" };

function parseServer(text: string, kind: "reverse" | "upstream", arg: string): ModeServer {
  let url: URL;
  try {
    url = new URL(arg);
  } catch {
    throw new ModeError(`mode "${text}": "${arg}" is not a URL (like ${EXAMPLE[kind]})`);
  }
  const scheme = url.protocol.slice(0, -1);
  if (scheme !== "http" && (scheme !== "https" || kind === "upstream")) {
    const allowed = kind === "reverse" ? "http:// or https://" : "http://";
    throw new ModeError(`mode "${text}": the URL must start with ${allowed}`);
  }
  if (url.username || url.password) {
    const hint = kind === "upstream" ? "; use --set upstream_auth=user:pass" : "";
    throw new ModeError(`mode "${text}": no user:password in the URL${hint}`);
  }
  if ((url.pathname !== "/" && url.pathname !== "") || url.search || url.hash) {
    throw new ModeError(`mode "${text}": the URL must not have a path (${url.pathname})`);
  }
  const host = url.hostname.replace(/^\[(.*)\]$/, "$1");
  const port = url.port ? Number(url.port) : scheme === "https" ? 443 : 80;
  return { scheme, host, port };
}

/** For the option registry: null when `text` is a valid mode, else what is wrong. */
export function modeProblem(text: string): string | null {
  try {
    parseMode(text);
    return null;
  } catch (e) {
    return (e as Error).message.replace(/^mode "[^"]*": /, "");
  }
}

/**
 * The listening port of each mode: its @port, or `defaultPort` for the first one without.
 * Throws ModeError when two modes would both need the default port.
 */
export function listenPorts(modes: ModeSpec[], defaultPort: number): number[] {
  let defaultTaken: string | null = null;
  return modes.map((m) => {
    if (m.listenPort !== null) return m.listenPort;
    if (defaultTaken !== null) {
      throw new ModeError(
        `modes "${defaultTaken}" and "${m.text}" both want --listen-port; ` +
          `give one of them its own port, as in ${m.text}@8081`,
      );
    }
    defaultTaken = m.text;
    return defaultPort;
  });
}
