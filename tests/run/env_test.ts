/** The environment and CA bundle of `mitm run`, as pure functions. */
import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { BUNDLE_VARIABLES, runEnvironment, type RunFiles } from "../../src/run/env.ts";
import { bundlePem, systemRootsPem } from "../../src/run/run_files.ts";

const FILES: RunFiles = {
  caPemFile: "/c/ca.pem",
  bundleFile: "/t/bundle.pem",
  nodePreloadFile: "/t/preload.cjs",
  wgetrcFile: "/t/wgetrc",
  javaTrustStore: { file: "/c/java store", password: "changeit" },
};
const PROXY = "http://127.0.0.1:4321";

describe("runEnvironment", () => {
  test("proxy variables in both cases, npm's too; NO_PROXY removed", () => {
    const env = runEnvironment(
      {
        PATH: "/bin",
        NO_PROXY: "localhost",
        no_proxy: "127.0.0.1",
        npm_config_noproxy: "x",
      },
      PROXY,
      FILES,
    );
    for (
      const name of ["HTTP_PROXY", "http_proxy", "HTTPS_PROXY", "https_proxy"]
    ) {
      assert.equal(env[name], PROXY, name);
    }
    assert.equal(env.npm_config_proxy, PROXY);
    assert.equal(env.npm_config_https_proxy, PROXY);
    assert.equal(env.NO_PROXY, undefined);
    assert.equal(env.no_proxy, undefined);
    assert.equal(env.npm_config_noproxy, undefined);
    assert.equal(env.PATH, "/bin");
  });

  test("the bundle for variables that replace the roots; the CA alone for Node's", () => {
    const env = runEnvironment({}, PROXY, FILES);
    for (const name of BUNDLE_VARIABLES) {
      assert.equal(env[name], "/t/bundle.pem", name);
    }
    assert.equal(env.NODE_EXTRA_CA_CERTS, "/c/ca.pem");
    assert.equal(env.WGETRC, "/t/wgetrc");
  });

  test("NODE_OPTIONS and JAVA_TOOL_OPTIONS are added to, quoting paths with spaces", () => {
    const env = runEnvironment(
      {
        NODE_OPTIONS: "--max-old-space-size=100",
        JAVA_TOOL_OPTIONS: "-Xmx1g",
        WGETRC: "/mine",
      },
      PROXY,
      FILES,
    );
    assert.equal(
      env.NODE_OPTIONS,
      "--max-old-space-size=100 --require /t/preload.cjs",
    );
    assert.equal(env.MITM_TS_PROXY, PROXY);
    assert.equal(
      env.JAVA_TOOL_OPTIONS,
      "-Xmx1g -Dhttp.proxyHost=127.0.0.1 -Dhttp.proxyPort=4321 -Dhttps.proxyHost=127.0.0.1 " +
        '-Dhttps.proxyPort=4321 -Dhttp.nonProxyHosts= -Djavax.net.ssl.trustStore="/c/java store" ' +
        "-Djavax.net.ssl.trustStorePassword=changeit",
    );
    // The user's own wgetrc is left in place.
    assert.equal(env.WGETRC, "/mine");
  });

  test("without a Java truststore, Java still gets the proxy", () => {
    const env = runEnvironment({}, PROXY, {
      ...FILES,
      javaTrustStore: undefined,
    });
    assert.doesNotMatch(env.JAVA_TOOL_OPTIONS, /trustStore/);
    assert.match(env.JAVA_TOOL_OPTIONS, /-Dhttps\.proxyPort=4321/);
  });
});

describe("CA bundle", () => {
  test("roots first, then the CA; the runtime's roots when no system file exists", () => {
    assert.equal(bundlePem("ROOTS", "CA\n"), "ROOTS\n# mitm.ts CA\nCA\n");
    const builtIn = systemRootsPem(["/no/such/file.pem"]);
    assert.ok(builtIn.split("BEGIN CERTIFICATE").length > 50);
  });
});
