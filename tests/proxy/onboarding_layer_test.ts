// The proxy's own site (http://mitm.it, the CA certificate page) in the new core: answered by the
// stream itself, no hooks, no flow, no origin dialled, in absolute-form and inside a CONNECT
// tunnel with TLS, even when origins are dialled eagerly.
import { describe, test } from "node:test";
import assert from "node:assert/strict";
import {
  Arm,
  CallHook,
  CloseConnection,
  OpenConnection,
  SendData,
  StartTls,
} from "../../src/proxy/core/commands.ts";
import { DataReceived, Start } from "../../src/proxy/core/events.ts";
import type { Onboarding } from "../../src/proxy/core/context.ts";
import { RegularMode, UpstreamMode } from "../../src/proxy/layers/modes.ts";
import type { TlsStartClientData } from "../../src/proxy/layers/tls.ts";
import { any, Playbook, reply } from "./playbook.ts";
import { b, clientHello, context } from "./layer_helpers.ts";

const SITE: Onboarding = {
  host: "mitm.it",
  answer: (path) =>
    path === "/cert/pem"
      ? { status: 200, headers: ["Content-Length", "4"], body: b("CERT") }
      : { status: 404, headers: ["Content-Length", "2"], body: b("no") },
};

describe("the proxy's own site (mitm.it)", () => {
  test("absolute-form: answered by the proxy, keep-alive, no hook, no origin", () => {
    const ctx = context({ onboarding: SITE });
    const pb = new Playbook(new RegularMode(ctx))
      .send(new Start())
      .send(
        new DataReceived(
          ctx.client,
          b("GET http://mitm.it/cert/pem HTTP/1.1\r\nHost: mitm.it\r\n\r\n"),
        ),
      )
      .expect(new SendData(ctx.client, b("HTTP/1.1 200 OK\r\nContent-Length: 4\r\n\r\nCERT")))
      .send(
        new DataReceived(ctx.client, b("HEAD http://mitm.it/x HTTP/1.1\r\nHost: mitm.it\r\n\r\n")),
      )
      .expect(new SendData(ctx.client, b("HTTP/1.1 404 Not Found\r\nContent-Length: 2\r\n\r\n")))
      .check();
    assert.ok(!pb.commands.some((c) => c instanceof CallHook || c instanceof OpenConnection));
  });

  test("a request with a body is refused with 400", () => {
    const ctx = context({ onboarding: SITE });
    const answer = any<Uint8Array>("400");
    new Playbook(new RegularMode(ctx))
      .send(new Start())
      .send(
        new DataReceived(
          ctx.client,
          b("POST http://mitm.it/ HTTP/1.1\r\nHost: mitm.it\r\nContent-Length: 2\r\n\r\nhi"),
        ),
      )
      .expect(new SendData(ctx.client, answer), new CloseConnection(ctx.client))
      .check();
    assert.match(new TextDecoder().decode(answer.value), /^HTTP\/1\.1 400 Bad Request\r\n/);
  });

  test("CONNECT mitm.it:443 with eager dialling: TLS with the client, no origin dialled", () => {
    const ctx = context({ onboarding: SITE, connectionStrategy: "eager" });
    const hello = clientHello("mitm.it", ["http/1.1"]);
    const pb = new Playbook(new RegularMode(ctx))
      .send(new Start())
      .send(
        new DataReceived(
          ctx.client,
          b("CONNECT mitm.it:443 HTTP/1.1\r\nHost: mitm.it:443\r\n\r\n"),
        ),
      )
      .expect(new SendData(ctx.client, b("HTTP/1.1 200 Connection Established\r\n\r\n")))
      .expect(any<Arm>("timer"))
      .send(new DataReceived(ctx.client, hello))
      .expect(new CallHook("tls_clienthello", any("hello")))
      .send(reply())
      .expect(any("disarm"))
      .expect(new CallHook("tls_start_client", any("start")))
      .send(reply(null, (d) => ((d as TlsStartClientData).identity = "LEAF")))
      .expect(new StartTls(ctx.client, "LEAF", ["http/1.1"], hello))
      .send(reply())
      .send(new DataReceived(ctx.client, b("GET /cert/pem HTTP/1.1\r\nHost: mitm.it\r\n\r\n")))
      .expect(new SendData(ctx.client, b("HTTP/1.1 200 OK\r\nContent-Length: 4\r\n\r\nCERT")))
      .check();
    assert.ok(!pb.commands.some((c) => c instanceof OpenConnection));
  });

  test("upstream mode: CONNECT mitm.it:443 is accepted without asking the upstream proxy", () => {
    const ctx = context({ onboarding: SITE });
    const pb = new Playbook(new UpstreamMode(ctx, { host: "upstream.test", port: 3128 }))
      .send(new Start())
      .send(
        new DataReceived(
          ctx.client,
          b("CONNECT mitm.it:443 HTTP/1.1\r\nHost: mitm.it:443\r\n\r\n"),
        ),
      )
      .expect(new SendData(ctx.client, b("HTTP/1.1 200 Connection Established\r\n\r\n")))
      .expect(any<Arm>("timer"))
      .check();
    assert.ok(!pb.commands.some((c) => c instanceof OpenConnection));
  });

  test("without the option, mitm.it is an origin like any other", () => {
    const ctx = context();
    new Playbook(new RegularMode(ctx), { hooks: false })
      .send(new Start())
      .send(
        new DataReceived(ctx.client, b("GET http://mitm.it/ HTTP/1.1\r\nHost: mitm.it\r\n\r\n")),
      )
      .expect(new OpenConnection(any("server")))
      .check();
  });
});
