/**
 * The origin side's cipher and certificate chain in the flow format: optional fields that
 * round-trip, are left out when unknown (older lines stay as they were), and are checked on read.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import type { CertificateInfo } from "../../src/flow/flow.ts";
import {
  FlowFormatError,
  flowFromJson,
  type FlowJson,
  flowToJson,
} from "../../src/flow/serialize.ts";
import { simpleFlow } from "./helpers.ts";

const LEAF: CertificateInfo = {
  subject: "CN=example.com",
  issuer: "CN=Example CA, O=Example",
  notBefore: "2026-01-01T00:00:00.000Z",
  notAfter: "2027-01-01T00:00:00.000Z",
  sha256: "ab".repeat(32),
  altNames: ["example.com", "127.0.0.1"],
};
const ROOT: CertificateInfo = {
  subject: "CN=Example CA, O=Example",
  issuer: "CN=Example CA, O=Example",
  notBefore: null,
  notAfter: null,
  sha256: "cd".repeat(32),
  altNames: [],
};

function withOriginTls(): FlowJson {
  const flow = simpleFlow();
  flow.server = {
    address: "127.0.0.1",
    port: 443,
    tls: {
      sni: "example.com",
      alpn: "h2",
      version: "TLSv1.3",
      cipher: "TLS_AES_128_GCM_SHA256",
      certificates: [LEAF, ROOT],
    },
  };
  return flowToJson(flow);
}

test("the cipher and the chain round-trip through a JSON line", () => {
  const json = withOriginTls();
  assert.equal(json.server?.tls?.cipher, "TLS_AES_128_GCM_SHA256");
  const back = flowFromJson(JSON.parse(JSON.stringify(json)));
  assert.equal(back.server?.tls?.cipher, "TLS_AES_128_GCM_SHA256");
  assert.deepEqual(back.server?.tls?.certificates, [LEAF, ROOT]);
  assert.deepEqual(flowToJson(back), json);
});

test("without them (client side, older lines) the fields are absent, not null", () => {
  const json = withOriginTls();
  const older = JSON.parse(JSON.stringify(json));
  delete older.server.tls.cipher;
  delete older.server.tls.certificates;
  const back = flowFromJson(older);
  assert.equal("cipher" in back.server!.tls!, false);
  assert.equal("certificates" in back.server!.tls!, false);
  const again = flowToJson(back);
  assert.deepEqual(Object.keys(again.server!.tls!).sort(), ["alpn", "sni", "version"]);
});

test("a malformed chain is refused with the path of the bad field", () => {
  const bad = JSON.parse(JSON.stringify(withOriginTls()));
  bad.server.tls.certificates[1].sha256 = 5;
  assert.throws(() => flowFromJson(bad), FlowFormatError);
  assert.throws(() => flowFromJson(bad), /server\.tls\.certificates\[1\]\.sha256/);
  const notList = JSON.parse(JSON.stringify(withOriginTls()));
  notList.server.tls.certificates = "leaf";
  assert.throws(() => flowFromJson(notList), /certificates.*array/);
});
