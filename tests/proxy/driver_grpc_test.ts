// gRPC through the new core: @grpc/grpc-js client and server on 127.0.0.1, the client tunnelling
// through the proxy with CONNECT (grpc_proxy), h2c inside the tunnel and towards the server.
// All four call kinds, a status in trailers, a deadline and a cancellation.
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import process from "node:process";
import * as grpc from "@grpc/grpc-js";
import { network } from "../../src/runtime/mod.ts";
import { Client } from "../../src/proxy/core/connection.ts";
import { Context, DEFAULT_LAYER_OPTIONS } from "../../src/proxy/core/context.ts";
import { RegularMode } from "../../src/proxy/layers/modes.ts";
import { Driver } from "../../src/proxy/driver/driver.ts";
import { runtimeServices } from "../../src/proxy/driver/runtime_services.ts";
import type { Flow } from "../../src/flow/flow.ts";

const same = (b: Buffer) => b;
function method(path: string, requestStream: boolean, responseStream: boolean) {
  return {
    path,
    requestStream,
    responseStream,
    requestSerialize: same,
    requestDeserialize: same,
    responseSerialize: same,
    responseDeserialize: same,
  };
}

/** A service without protobuf: messages are raw bytes. */
const SERVICE = {
  unary: method("/t.Echo/Unary", false, false),
  serverStream: method("/t.Echo/ServerStream", false, true),
  clientStream: method("/t.Echo/ClientStream", true, false),
  bidi: method("/t.Echo/Bidi", true, true),
  slow: method("/t.Echo/Slow", false, false),
};

// grpc-js types handlers of generic (protobuf-less) services loosely.
// deno-lint-ignore no-explicit-any
type Any = any;
let server: grpc.Server;
let serverPort = 0;
const flows: Flow[] = [];
let listener: Awaited<ReturnType<typeof network.listen>>;
const drivers: Promise<void>[] = [];
let EchoClient: grpc.ServiceClientConstructor;
/** As with an addon that has `request` and `response` hooks: bodies are held for them. */
let holding = false;

before(async () => {
  server = new grpc.Server();
  server.addService(SERVICE as Any, {
    unary(call: Any, cb: Any) {
      const text = call.request.toString();
      if (text === "fail") {
        cb({ code: grpc.status.NOT_FOUND, details: "no such thing" });
        return;
      }
      cb(null, Buffer.from(`unary:${text}`));
    },
    serverStream(call: Any) {
      for (let i = 0; i < 5; i++) call.write(Buffer.from(`part${i}`));
      call.end();
    },
    clientStream(call: Any, cb: Any) {
      const parts: string[] = [];
      call.on("data", (d: Buffer) => parts.push(d.toString()));
      call.on("end", () => cb(null, Buffer.from(parts.join("+"))));
    },
    bidi(call: Any) {
      call.on("data", (d: Buffer) => call.write(Buffer.from(`echo:${d}`)));
      call.on("end", () => call.end());
    },
    slow(_call: Any, cb: Any) {
      setTimeout(() => cb(null, Buffer.from("late")), 3000);
    },
  });
  serverPort = await new Promise<number>((resolve, reject) =>
    server.bindAsync("127.0.0.1:0", grpc.ServerCredentials.createInsecure(), (e, port) => {
      if (e) reject(e);
      else resolve(port);
    })
  );
  const services = runtimeServices({
    network,
    leaves: null,
    verifyUpstream: true,
    hook(name, data) {
      if (name === "flow_done") flows.push(data as Flow);
    },
    log() {},
  });
  listener = await network.listen({ host: "127.0.0.1", port: 0 }, (conn) => {
    const client = new Client(conn.remote, conn.local);
    const ctx = new Context(client, {
      ...DEFAULT_LAYER_OPTIONS,
      holdRequestBodies: holding,
      holdResponseBodies: holding,
    });
    drivers.push(new Driver(new RegularMode(ctx), client, conn, services).run());
  });
  process.env.grpc_proxy = `http://127.0.0.1:${listener.address.port}`;
  EchoClient = grpc.makeGenericClientConstructor(SERVICE as Any, "Echo");
});

after(async () => {
  delete process.env.grpc_proxy;
  await new Promise<void>((r) => server.tryShutdown(() => r()));
  await listener.close();
});

function newClient(): Any {
  return new EchoClient(`127.0.0.1:${serverPort}`, grpc.credentials.createInsecure());
}

describe("gRPC through the proxy (grpc_proxy, CONNECT, h2c)", () => {
  test("unary, server, client and bidirectional streaming; status in trailers", async () => {
    const client = newClient();
    try {
      const unary = await new Promise<Buffer>((res, rej) =>
        client.unary(Buffer.from("hi"), (e: Error | null, r: Buffer) => e ? rej(e) : res(r))
      );
      assert.equal(unary.toString(), "unary:hi");

      const parts: string[] = [];
      await new Promise<void>((res, rej) => {
        const call = client.serverStream(Buffer.from("x"));
        call.on("data", (d: Buffer) => parts.push(d.toString()));
        call.on("end", res);
        call.on("error", rej);
      });
      assert.deepEqual(parts, ["part0", "part1", "part2", "part3", "part4"]);

      const joined = await new Promise<Buffer>((res, rej) => {
        const call = client.clientStream((e: Error | null, r: Buffer) => e ? rej(e) : res(r));
        for (const p of ["a", "b", "c"]) call.write(Buffer.from(p));
        call.end();
      });
      assert.equal(joined.toString(), "a+b+c");

      const echoes: string[] = [];
      await new Promise<void>((res, rej) => {
        const call = client.bidi();
        call.on("data", (d: Buffer) => {
          echoes.push(d.toString());
          // One at a time: the next message goes once the previous one came back.
          if (echoes.length < 3) call.write(Buffer.from(`m${echoes.length}`));
          else call.end();
        });
        call.on("end", res);
        call.on("error", rej);
        call.write(Buffer.from("m0"));
      });
      assert.deepEqual(echoes, ["echo:m0", "echo:m1", "echo:m2"]);

      const failure = await new Promise<grpc.ServiceError>((res) =>
        client.unary(Buffer.from("fail"), (e: grpc.ServiceError) => res(e))
      );
      assert.equal(failure.code, grpc.status.NOT_FOUND);
      assert.equal(failure.details, "no such thing");
    } finally {
      client.close();
    }
    await waitFor(() => flows.filter((f) => f.request.path.startsWith("/t.Echo/")).length >= 5);
    const grpcFlows = flows.filter((f) => f.request.path.startsWith("/t.Echo/"));
    for (const f of grpcFlows) {
      assert.equal(f.request.httpVersion, "HTTP/2.0");
      assert.equal(f.response?.httpVersion, "HTTP/2.0");
      assert.equal(f.request.headers.get("content-type"), "application/grpc");
    }
    const ok = grpcFlows.filter((f) => f.response?.trailers?.get("grpc-status") === "0");
    assert.equal(ok.length, 4, "each successful call's status travels in trailers");
    // An error without messages is "trailers-only": the status is in the one HEADERS frame.
    const failed = grpcFlows.find((f) => f.response?.headers.get("grpc-status") === "5");
    assert.ok(failed);
  });

  test("with hooks that hold bodies, streaming calls still stream both ways", async () => {
    holding = true;
    const client = newClient();
    try {
      const echoes: string[] = [];
      await new Promise<void>((res, rej) => {
        const call = client.bidi();
        call.on("data", (d: Buffer) => {
          echoes.push(d.toString());
          // The next message goes only once the previous one came back: a held body stalls.
          if (echoes.length < 3) call.write(Buffer.from(`h${echoes.length}`));
          else call.end();
        });
        call.on("end", res);
        call.on("error", rej);
        call.write(Buffer.from("h0"));
      });
      assert.deepEqual(echoes, ["echo:h0", "echo:h1", "echo:h2"]);
    } finally {
      client.close();
      holding = false;
    }
    await waitFor(() => flows.some((f) => f.request.path === "/t.Echo/Bidi" && f.response?.body));
    const flow = flows.findLast((f) => f.request.path === "/t.Echo/Bidi")!;
    // The hooks' view once the call is over: both directions' messages, as they went.
    assert.ok(flow.request.body && flow.request.body.length > 0);
    assert.ok(flow.response!.body && flow.response!.body.length > 0);
  });

  test("a deadline and a cancellation end their call only", async () => {
    const client = newClient();
    try {
      const late = await new Promise<grpc.ServiceError>((res) =>
        client.slow(
          Buffer.from("x"),
          { deadline: Date.now() + 500 },
          (e: grpc.ServiceError) => res(e),
        )
      );
      assert.equal(late.code, grpc.status.DEADLINE_EXCEEDED);
      const cancelled = await new Promise<grpc.ServiceError>((res) => {
        const call = client.slow(Buffer.from("x"), (e: grpc.ServiceError) => res(e));
        setTimeout(() => call.cancel(), 100);
      });
      assert.equal(cancelled.code, grpc.status.CANCELLED);
      const after = await new Promise<Buffer>((res, rej) =>
        client.unary(Buffer.from("again"), (e: Error | null, r: Buffer) => e ? rej(e) : res(r))
      );
      assert.equal(after.toString(), "unary:again");
    } finally {
      client.close();
    }
  });
});

async function waitFor(check: () => boolean): Promise<void> {
  for (let i = 0; i < 200 && !check(); i++) await new Promise((r) => setTimeout(r, 50));
}
