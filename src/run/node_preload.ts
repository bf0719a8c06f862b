/**
 * The preload `mitm run` gives Node through NODE_OPTIONS=--require: Node's http, https and fetch
 * ignore HTTP_PROXY, so it opens a CONNECT tunnel through the proxy for each of their connections.
 *
 * - http and https: every Agent's createConnection (the prototype, so that agents a library makes
 *   itself are covered too) tunnels instead of connecting; TLS then runs inside the tunnel.
 * - fetch: Node's bundled undici reads its dispatcher from a global symbol shared by undici
 *   versions; it gets an undici Agent (the class of the default dispatcher) whose `connect`
 *   option tunnels the same way.
 * Unix sockets and hosts in NO_PROXY connect directly. Bun and Deno read proxy variables
 * themselves, so the preload does nothing there.
 */

/** Written to a .cjs file; plain JavaScript that Node 18 and later run before the program. */
export const NODE_PRELOAD_SOURCE = String.raw`"use strict";
// mitm.ts run: routes this Node process's http, https and fetch through the proxy.
(() => {
  if (typeof Bun !== "undefined" || typeof Deno !== "undefined") return;
  const proxyUrl = process.env.MITM_TS_PROXY;
  if (!proxyUrl) return;
  const net = require("node:net");
  const tls = require("node:tls");
  const http = require("node:http");
  const https = require("node:https");
  const proxy = new URL(proxyUrl);
  const proxyHost = proxy.hostname.replace(/^\[|\]$/g, "");
  const proxyPort = Number(proxy.port || 80);

  const noProxy = (process.env.NO_PROXY || process.env.no_proxy || "")
    .split(/[\s,]+/).map((s) => s.toLowerCase()).filter(Boolean);
  function direct(host) {
    const h = String(host || "").toLowerCase().replace(/^\[|\]$/g, "");
    return noProxy.some((entry) => {
      if (entry === "*") return true;
      const name = entry.replace(/:\d+$/, "").replace(/^\*?\./, "");
      return h === name || h.endsWith("." + name);
    });
  }
  function authority(host, port) {
    const h = String(host).replace(/^\[|\]$/g, "");
    return (net.isIPv6(h) ? "[" + h + "]" : h) + ":" + port;
  }

  // A TCP connection to the proxy turned into a tunnel to host:port; cb(error, socket).
  function tunnel(host, port, cb) {
    const target = authority(host, port);
    const socket = net.connect(proxyPort, proxyHost);
    let head = Buffer.alloc(0);
    let settled = false;
    const fail = (error) => {
      if (settled) return;
      settled = true;
      socket.destroy();
      cb(error);
    };
    const onData = (chunk) => {
      head = Buffer.concat([head, chunk]);
      const end = head.indexOf("\r\n\r\n");
      if (end < 0) {
        if (head.length > 65536) fail(new Error("mitm.ts proxy sent an oversized CONNECT answer"));
        return;
      }
      socket.off("data", onData);
      socket.off("error", fail);
      socket.off("end", onEnd);
      const line = head.subarray(0, end).toString("latin1").split("\r\n")[0];
      if (!/^HTTP\/1\.[01] 2\d\d/.test(line)) {
        return fail(new Error("mitm.ts proxy refused CONNECT " + target + ": " + line));
      }
      settled = true;
      const rest = head.subarray(end + 4);
      if (rest.length > 0) socket.unshift(rest);
      cb(null, socket);
    };
    const onEnd = () => fail(new Error("mitm.ts proxy closed the connection to " + target));
    socket.on("error", fail);
    socket.on("end", onEnd);
    socket.on("data", onData);
    socket.write("CONNECT " + target + " HTTP/1.1\r\nHost: " + target + "\r\n\r\n");
  }
  function serverName(host, given) {
    if (given) return given;
    const h = String(host).replace(/^\[|\]$/g, "");
    return net.isIP(h) ? undefined : h;
  }

  const httpCreate = http.Agent.prototype.createConnection;
  http.Agent.prototype.createConnection = function (options, cb) {
    if (options.socketPath || direct(options.host)) return httpCreate.call(this, options, cb);
    tunnel(options.host || "localhost", options.port || 80, cb);
  };
  const httpsCreate = https.Agent.prototype.createConnection;
  https.Agent.prototype.createConnection = function (options, cb) {
    if (options.socketPath || direct(options.host)) return httpsCreate.call(this, options, cb);
    tunnel(options.host || "localhost", options.port || 443, (error, socket) => {
      if (error) return cb(error);
      const servername = serverName(options.host, options.servername);
      cb(null, tls.connect({ ...options, socket, servername }));
    });
  };

  // fetch: touching Headers loads Node's undici, which installs its default Agent.
  try {
    void globalThis.Headers;
    const key = Symbol.for("undici.globalDispatcher.1");
    const Agent = globalThis[key] && globalThis[key].constructor;
    if (typeof Agent !== "function") return;
    globalThis[key] = new Agent({
      connect(opts, cb) {
        const https = opts.protocol === "https:";
        const port = opts.port || (https ? 443 : 80);
        if (direct(opts.hostname)) {
          const plain = { host: opts.hostname.replace(/^\[|\]$/g, ""), port };
          const s = https
            ? tls.connect({ ...plain, servername: serverName(opts.hostname, opts.servername) })
            : net.connect(plain);
          s.once(https ? "secureConnect" : "connect", () => cb(null, s));
          s.once("error", (e) => cb(e));
          return;
        }
        tunnel(opts.hostname, port, (error, socket) => {
          if (error) return cb(error);
          if (!https) return cb(null, socket);
          const secure = tls.connect({
            socket,
            servername: serverName(opts.hostname, opts.servername),
            ALPNProtocols: ["http/1.1"],
          });
          const onError = (e) => cb(e);
          secure.once("error", onError);
          secure.once("secureConnect", () => {
            secure.off("error", onError);
            cb(null, secure);
          });
        });
      },
    });
  } catch (error) {
    process.emitWarning("mitm.ts could not route fetch through the proxy: " + error.message);
  }
})();
`;
