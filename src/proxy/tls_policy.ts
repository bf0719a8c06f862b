/**
 * Which TLS connections are intercepted: --ignore-hosts passes matching ones through untouched,
 * --allow-hosts intercepts only matching ones. Each regex is searched (not anchored, as in
 * mitmproxy) in "host:port" and in the SNI and "sni:port".
 */
export function interceptPolicy(
  ignoreHosts: readonly string[],
  allowHosts: readonly string[],
): (host: string, port: number, sni: string | null | undefined) => boolean {
  const ignore = ignoreHosts.map((r) => new RegExp(r, "i"));
  const allow = allowHosts.map((r) => new RegExp(r, "i"));
  if (ignore.length === 0 && allow.length === 0) return () => true;
  return (host, port, sni) => {
    const subjects = [`${host}:${port}`];
    if (sni) subjects.push(sni, `${sni}:${port}`);
    const matches = (list: RegExp[]) => subjects.some((s) => list.some((r) => r.test(s)));
    if (matches(ignore)) return false;
    if (allow.length === 0) return true;
    // Before the ClientHello an allow-list cannot rule a host out yet: its SNI may match.
    return sni === undefined || matches(allow);
  };
}
