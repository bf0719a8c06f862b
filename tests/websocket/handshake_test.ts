import { test } from "node:test";
import assert from "node:assert/strict";
import { HeaderList } from "../../src/http/headers.ts";
import {
  acceptKey,
  checkUpgradeRequest,
  checkUpgradeResponse,
  generateKey,
  HandshakeError,
  isWebSocketUpgrade,
} from "../../src/websocket/handshake.ts";
import {
  checkAcceptedExtensions,
  formatExtensions,
  keepOnlyDeflateOffers,
  parseExtensions,
  removeExtensionOffers,
} from "../../src/websocket/extensions.ts";

const KEY = "dGhlIHNhbXBsZSBub25jZQ==";

function requestHeaders(extra: Record<string, string> = {}) {
  return HeaderList.from({
    Host: "server.example.com",
    Upgrade: "websocket",
    Connection: "keep-alive, Upgrade",
    "Sec-WebSocket-Key": KEY,
    "Sec-WebSocket-Version": "13",
    ...extra,
  });
}

test("acceptKey gives RFC 6455 1.3's example accept value; generateKey makes valid keys", async () => {
  assert.equal(await acceptKey(KEY), "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=");
  const key = generateKey();
  assert.match(key, /^[A-Za-z0-9+/]{22}==$/);
  assert.notEqual(generateKey(), key);
});

test("isWebSocketUpgrade needs both tokens, in any case, among others", () => {
  assert.ok(isWebSocketUpgrade(requestHeaders()));
  assert.ok(isWebSocketUpgrade(HeaderList.from({ upgrade: "WebSocket", connection: "UPGRADE" })));
  assert.ok(!isWebSocketUpgrade(HeaderList.from({ Upgrade: "h2c", Connection: "Upgrade" })));
  assert.ok(!isWebSocketUpgrade(HeaderList.from({ Upgrade: "websocket" })));
});

test("checkUpgradeRequest returns key, subprotocols and extension offers", () => {
  const r = checkUpgradeRequest(
    "GET",
    "HTTP/1.1",
    requestHeaders({
      "Sec-WebSocket-Protocol": "chat, superChat",
      "Sec-WebSocket-Extensions": "permessage-deflate; client_max_window_bits",
    }),
  );
  assert.equal(r.key, KEY);
  assert.deepEqual(r.protocols, ["chat", "superChat"]);
  assert.deepEqual(r.extensions, [{
    name: "permessage-deflate",
    params: [["client_max_window_bits", true]],
  }]);
});

test("checkUpgradeRequest refuses what 4.2.1 forbids, saying why", () => {
  const bad: [string, string, HeaderList, RegExp][] = [
    ["POST", "HTTP/1.1", requestHeaders(), /must be GET/],
    ["GET", "HTTP/1.0", requestHeaders(), /needs HTTP\/1.1/],
    ["GET", "HTTP/1.1", requestHeaders({ "Sec-WebSocket-Key": "c2hvcnQ=" }), /16 bytes/],
    ["GET", "HTTP/1.1", requestHeaders({ "Sec-WebSocket-Version": "8" }), /must be 13, not 8/],
    ["GET", "HTTP/1.1", HeaderList.from({ Upgrade: "websocket" }), /Connection: upgrade/],
  ];
  for (const [method, version, headers, pattern] of bad) {
    assert.throws(() => checkUpgradeRequest(method, version, headers), (e: unknown) => {
      assert.ok(e instanceof HandshakeError);
      assert.match(e.message, pattern);
      return true;
    });
  }
});

async function response(extra: Record<string, string>, requestExtra: Record<string, string> = {}) {
  const request = checkUpgradeRequest("GET", "HTTP/1.1", requestHeaders(requestExtra));
  const headers = HeaderList.from({
    Upgrade: "websocket",
    Connection: "Upgrade",
    "Sec-WebSocket-Accept": "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=",
    ...extra,
  });
  return await checkUpgradeResponse(request, 101, headers);
}

test("checkUpgradeResponse accepts a valid 101 and reports subprotocol and deflate", async () => {
  assert.deepEqual(await response({}), { protocol: null, deflate: false });
  assert.deepEqual(
    await response(
      {
        "Sec-WebSocket-Protocol": "chat",
        "Sec-WebSocket-Extensions": "permessage-deflate; server_no_context_takeover",
      },
      { "Sec-WebSocket-Protocol": "chat", "Sec-WebSocket-Extensions": "permessage-deflate" },
    ),
    { protocol: "chat", deflate: true },
  );
});

test("checkUpgradeResponse refuses a wrong accept, an unoffered subprotocol or extension", async () => {
  await assert.rejects(response({ "Sec-WebSocket-Accept": "AAAA" }), /does not match/);
  await assert.rejects(response({ "Sec-WebSocket-Protocol": "chat" }), /not offered/);
  await assert.rejects(
    response({ "Sec-WebSocket-Extensions": "permessage-deflate" }),
    /not offered/,
  );
  await assert.rejects(
    response({ "Sec-WebSocket-Extensions": "x-webkit-deflate-frame" }, {
      "Sec-WebSocket-Extensions": "x-webkit-deflate-frame",
    }),
    /unsupported extension x-webkit-deflate-frame/,
  );
  await assert.rejects(
    response({ "Sec-WebSocket-Extensions": "permessage-deflate; server_max_window_bits=7" }, {
      "Sec-WebSocket-Extensions": "permessage-deflate",
    }),
    /8 to 15, not 7/,
  );
  const request = checkUpgradeRequest("GET", "HTTP/1.1", requestHeaders());
  await assert.rejects(
    checkUpgradeResponse(request, 200, new HeaderList()),
    /answered 200, not 101/,
  );
});

test("extension headers: parse with quoted values, format, and filter offers", () => {
  const list = parseExtensions(
    'permessage-deflate; client_max_window_bits="10", x-foo, permessage-deflate',
  );
  assert.deepEqual(list.map((e) => e.name), ["permessage-deflate", "x-foo", "permessage-deflate"]);
  assert.deepEqual(list[0].params, [["client_max_window_bits", "10"]]);
  assert.equal(
    formatExtensions(list),
    "permessage-deflate; client_max_window_bits=10, x-foo, permessage-deflate",
  );
  assert.throws(() => parseExtensions("a b"), /bad extension name/);

  const headers = HeaderList.from({
    "Sec-WebSocket-Extensions": "x-foo; a=1, permessage-deflate; client_max_window_bits",
  });
  assert.equal(keepOnlyDeflateOffers(headers).length, 1);
  assert.equal(
    headers.get("sec-websocket-extensions"),
    "permessage-deflate; client_max_window_bits",
  );
  const only = HeaderList.from({ "Sec-WebSocket-Extensions": "x-foo" });
  keepOnlyDeflateOffers(only);
  assert.equal(only.has("sec-websocket-extensions"), false);
  removeExtensionOffers(headers);
  assert.equal(headers.has("sec-websocket-extensions"), false);
  assert.throws(
    () => checkAcceptedExtensions("permessage-deflate; foo", parseExtensions("permessage-deflate")),
    /unknown permessage-deflate parameter foo/,
  );
});
