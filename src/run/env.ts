/**
 * The environment `mitm run` gives a command: every common HTTP stack sent through the proxy and
 * trusting the CA. Pure: files are made elsewhere (run_files.ts) and passed in by path.
 */

export interface RunFiles {
  /** The mitm.ts CA certificate alone (for variables that add to built-in roots). */
  caPemFile: string;
  /** System roots plus the mitm.ts CA (for variables that replace the roots). */
  bundleFile: string;
  /** The Node preload (node_preload.ts), given through NODE_OPTIONS. */
  nodePreloadFile: string;
  /** A wgetrc naming the bundle, when the user has no WGETRC of their own. */
  wgetrcFile?: string;
  /** A Java truststore: the JDK's roots plus the CA, when keytool was found. */
  javaTrustStore?: { file: string; password: string };
}

/** Variables naming a CA file that replaces the default roots: they get the whole bundle. */
export const BUNDLE_VARIABLES = [
  "SSL_CERT_FILE", // OpenSSL's default verify file: Python ssl, Ruby, curl and git built on it
  "REQUESTS_CA_BUNDLE", // Python requests
  "CURL_CA_BUNDLE", // curl, and pip and requests read it too
  "GIT_SSL_CAINFO",
  "AWS_CA_BUNDLE",
  "PIP_CERT",
  "npm_config_cafile",
  "DENO_CERT",
  "CARGO_HTTP_CAINFO",
  "HEX_CACERTS_PATH",
  "PERL_LWP_SSL_CA_FILE",
  "GRPC_DEFAULT_SSL_ROOTS_FILE_PATH",
] as const;

/** Variables naming the proxy: both cases, since curl reads only lowercase http_proxy. */
export const PROXY_VARIABLES = [
  "HTTP_PROXY",
  "http_proxy",
  "HTTPS_PROXY",
  "https_proxy",
  "npm_config_proxy",
  "npm_config_https_proxy",
] as const;

/**
 * Variables that exempt hosts from the proxy, removed entirely: mitm.ts connects to origins
 * itself, so no host needs to skip it, and local test servers (localhost, 127.0.0.1) are exactly
 * what a test run wants captured. Hosts to leave alone are for --ignore-hosts.
 */
export const NO_PROXY_VARIABLES = ["NO_PROXY", "no_proxy", "npm_config_noproxy"] as const;

/** The variable the Node preload reads the proxy from (its own, so that it is never ambiguous). */
export const PRELOAD_PROXY_VARIABLE = "MITM_TS_PROXY";

/** `base` with the proxy and the CA set for every stack `mitm run` knows. */
export function runEnvironment(
  base: Readonly<Record<string, string | undefined>>,
  proxyUrl: string,
  files: RunFiles,
): Record<string, string> {
  const env: Record<string, string> = {};
  for (const [name, value] of Object.entries(base)) if (value !== undefined) env[name] = value;
  for (const name of NO_PROXY_VARIABLES) delete env[name];
  for (const name of PROXY_VARIABLES) env[name] = proxyUrl;
  for (const name of BUNDLE_VARIABLES) env[name] = files.bundleFile;
  // Node and Bun add this file to their built-in roots.
  env.NODE_EXTRA_CA_CERTS = files.caPemFile;
  env[PRELOAD_PROXY_VARIABLE] = proxyUrl;
  env.NODE_OPTIONS = appendOption(
    env.NODE_OPTIONS,
    `--require ${quoteOption(files.nodePreloadFile)}`,
  );
  if (files.wgetrcFile !== undefined && env.WGETRC === undefined) env.WGETRC = files.wgetrcFile;
  env.JAVA_TOOL_OPTIONS = appendOption(
    env.JAVA_TOOL_OPTIONS,
    javaOptions(new URL(proxyUrl), files.javaTrustStore),
  );
  return env;
}

/**
 * Java's proxy system properties, and the truststore. An empty http.nonProxyHosts removes the
 * JDK's default exemption of localhost and 127.* (DefaultProxySelector keeps an empty value empty).
 */
function javaOptions(proxy: URL, trust: RunFiles["javaTrustStore"]): string {
  const host = proxy.hostname.replace(/^\[|\]$/g, "");
  const props = [
    `-Dhttp.proxyHost=${host}`,
    `-Dhttp.proxyPort=${proxy.port}`,
    `-Dhttps.proxyHost=${host}`,
    `-Dhttps.proxyPort=${proxy.port}`,
    "-Dhttp.nonProxyHosts=",
  ];
  if (trust !== undefined) {
    props.push(
      `-Djavax.net.ssl.trustStore=${quoteOption(trust.file)}`,
      `-Djavax.net.ssl.trustStorePassword=${trust.password}`,
    );
  }
  return props.join(" ");
}

function appendOption(existing: string | undefined, option: string): string {
  return existing === undefined || existing.trim() === "" ? option : `${existing} ${option}`;
}

/** NODE_OPTIONS and JAVA_TOOL_OPTIONS split on spaces but honour double quotes. */
function quoteOption(value: string): string {
  return /[\s"]/.test(value) ? `"${value.replace(/(["\\])/g, "\\$1")}"` : value;
}
