/**
 * The DNS phase of an origin dial, through a real proxy to a 127.0.0.1 origin: a request to a
 * name (`localhost`) records the lookup apart from the TCP connect, in the flow's JSON and as HAR
 * `timings.dns`; a request to an IP address does no lookup (dns -1); a name that does not resolve
 * is still a 502 with a one-line reason.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { viaProxy, waitFor, withApi, withOrigin } from "./helpers.ts";

interface ServerJson {
  timestampDnsStart?: number;
  timestampDnsEnd?: number;
  timestampTcpStart: number | null;
  timestampTcpEnd: number | null;
}

test("a name's lookup is timed apart from the connect; an IP address has none", async () => {
  await withOrigin(async (origin) => {
    await withApi({}, async ({ proxy, req }) => {
      const port = proxy.address.port;
      const byName = await viaProxy(port, `http://localhost:${origin.port}/by-name`);
      assert.match(byName, /^HTTP\/1.1 200/);
      const byIp = await viaProxy(port, `http://127.0.0.1:${origin.port}/by-ip`);
      assert.match(byIp, /^HTTP\/1.1 200/);
      const flows: { id: string; request: { path: string } }[] = await waitFor(
        "2 flows",
        async () => {
          const { flows } = await (await req("/api/flows")).json();
          return flows.length === 2 && flows;
        },
      );
      const server = async (path: string): Promise<ServerJson> => {
        const id = flows.find((f) => f.request.path === path)!.id;
        return (await (await req(`/api/flows/${id}?body_limit=0`)).json()).server;
      };

      const named = await server("/by-name");
      assert.equal(typeof named.timestampDnsStart, "number");
      assert.equal(typeof named.timestampDnsEnd, "number");
      assert.ok(named.timestampDnsEnd! >= named.timestampDnsStart!);
      assert.ok(named.timestampTcpStart! >= named.timestampDnsEnd!, "connect after the lookup");
      assert.ok(named.timestampTcpEnd! >= named.timestampTcpStart!);
      const literal = await server("/by-ip");
      assert.equal(literal.timestampDnsStart, undefined);
      assert.equal(literal.timestampDnsEnd, undefined);
      assert.equal(typeof literal.timestampTcpStart, "number");

      const har = await (await req("/api/flows.har")).json();
      const timings = (path: string) =>
        har.log.entries.find((e: { request: { url: string } }) => e.request.url.endsWith(path))
          .timings;
      const t = timings("/by-name");
      assert.equal(t.dns, named.timestampDnsEnd! - named.timestampDnsStart!);
      assert.equal(t.connect, named.timestampTcpEnd! - named.timestampTcpStart!);
      assert.equal(timings("/by-ip").dns, -1);
    });
  });
});

test("a name that does not resolve is still a 502 with a one-line reason", async () => {
  await withApi({}, async ({ proxy }) => {
    const answer = await viaProxy(proxy.address.port, "http://no-such-host.invalid/");
    assert.match(answer, /^HTTP\/1.1 502/);
    const body = answer.slice(answer.indexOf("\r\n\r\n") + 4).trim();
    assert.match(body, /no-such-host\.invalid: DNS lookup failed/);
    assert.doesNotMatch(body, /\n/);
  });
});
