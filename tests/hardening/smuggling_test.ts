/**
 * Request smuggling corpus, through the real proxy to a raw TCP origin that records every byte.
 * Each ambiguous request is either refused (400/431/505 with a reason, connection closed, nothing
 * complete reaches the origin) or normalised so the origin sees exactly one unambiguous request,
 * compared byte for byte. `{url}` stands for the origin's URL and `{host}` for its host:port.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import type net from "node:net";
import type { Flow } from "../../src/flow/flow.ts";
import { curl } from "../e2e/helpers.ts";
import {
  connect,
  countRequests,
  eventually,
  exchange,
  OK_RESPONSE,
  rawServer,
  readUntil,
  recordingOrigin,
  withRealProxy,
} from "./helpers.ts";

interface Refused {
  name: string;
  request: string;
  status: number;
  reason: RegExp;
}

interface Normalised {
  name: string;
  request: string;
  /** Exactly what the origin must receive. */
  forwarded: string;
}

const POST = "POST {url} HTTP/1.1\r\nHost: {host}\r\n";
const GET = "GET {url} HTTP/1.1\r\nHost: {host}\r\n";
/** A complete request hidden in a body, as the attacker hopes the origin will read it. */
const HIDDEN = "GET /admin HTTP/1.1\r\nHost: internal\r\n\r\n";
const HIDDEN_HEX = HIDDEN.length.toString(16);

const refused: Refused[] = [
  // CL.TE / TE.CL: both framings at once, either order.
  {
    name: "CL.TE",
    request: POST + "Content-Length: 6\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\nG",
    status: 400,
    reason: /both Content-Length and Transfer-Encoding/,
  },
  {
    name: "TE.CL",
    request: POST + "Transfer-Encoding: chunked\r\nContent-Length: 4\r\n\r\n27\r\n" + HIDDEN,
    status: 400,
    reason: /both Content-Length and Transfer-Encoding/,
  },
  {
    name: "CL.TE with an obfuscated TE",
    request: POST + "Content-Length: 4\r\nTransfer-Encoding: xchunked\r\n\r\n0\r\n\r\n",
    status: 400,
    reason: /both Content-Length and Transfer-Encoding/,
  },
  // TE.TE: a Transfer-Encoding one parser honours and another ignores.
  ...[
    ["xchunked", /"xchunked" is not a supported coding/],
    ["chunked, identity", /"identity" is not a supported coding/],
    ["identity, chunked", /"identity" is not a supported coding/],
    ["chunk", /"chunk" is not a supported coding/],
    ['"chunked"', /"\\"chunked\\"" is not a supported coding/],
    ["chunked;q=1", /"chunked;q=1" is not a supported coding/],
    ["\x0bchunked", /"\\u000bchunked" is not a supported coding/],
    ["\x0cchunked", /"\\fchunked" is not a supported coding/],
    ["\xa0chunked", /chunked" is not a supported coding/],
    ["chunked\x00", /value contains NUL/],
  ].map(([te, reason]): Refused => ({
    name: `TE.TE: Transfer-Encoding ${JSON.stringify(te)}`,
    request: POST + `Transfer-Encoding: ${te}\r\n\r\n0\r\n\r\n` + HIDDEN,
    status: 400,
    reason: reason as RegExp,
  })),
  {
    name: "TE.TE: two Transfer-Encoding fields, the second unknown",
    request: POST + "Transfer-Encoding: chunked\r\nTransfer-Encoding: cow\r\n\r\n0\r\n\r\n",
    status: 400,
    reason: /"cow" is not a supported coding/,
  },
  {
    name: "TE.TE: chunked twice (duplicate field)",
    request: POST + "Transfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n",
    status: 400,
    reason: /applies the chunked coding twice/,
  },
  {
    name: "TE.TE: space before the colon",
    request: POST + "Transfer-Encoding : chunked\r\nContent-Length: 3\r\n\r\nabc",
    status: 400,
    reason: /whitespace before the colon/,
  },
  {
    name: "TE.TE: tab before the colon",
    request: POST + "Transfer-Encoding\t: chunked\r\n\r\n0\r\n\r\n",
    status: 400,
    reason: /whitespace before the colon/,
  },
  {
    name: "TE.TE: Transfer-Encoding hidden in an obs-fold",
    request: POST + "X: y\r\n Transfer-Encoding: chunked\r\nContent-Length: 3\r\n\r\nabc",
    status: 400,
    reason: /obsolete line folding/,
  },
  {
    name: "TE.TE: Transfer-Encoding split by obs-fold",
    request: POST + "Transfer-Encoding:\r\n chunked\r\n\r\n0\r\n\r\n",
    status: 400,
    reason: /obsolete line folding/,
  },
  {
    name: "Transfer-Encoding: gzip alone (length unknown)",
    request: POST + "Transfer-Encoding: gzip\r\n\r\n",
    status: 400,
    reason: /does not end with chunked/,
  },
  {
    name: "Transfer-Encoding in an HTTP/1.0 request",
    request: "POST {url} HTTP/1.0\r\nHost: {host}\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n",
    status: 400,
    reason: /HTTP\/1\.0 request uses Transfer-Encoding/,
  },
  // Content-Length ambiguities.
  {
    name: "two different Content-Length fields",
    request: POST + "Content-Length: 3\r\nContent-Length: 40\r\n\r\nabc" + HIDDEN,
    status: 400,
    reason: /differing Content-Length values/,
  },
  {
    name: "Content-Length list with different values",
    request: POST + "Content-Length: 3, 40\r\n\r\nabc",
    status: 400,
    reason: /differing Content-Length values/,
  },
  ...["+3", "-3", "3 3", "0x3", "3.0", "3e0", "\x0b3", "3;", "", "1234567890123456"].map((
    cl,
  ): Refused => ({
    name: `Content-Length ${JSON.stringify(cl)}`,
    request: POST + `Content-Length: ${cl}\r\n\r\nabc`,
    status: 400,
    reason: /Content-Length ".*" is invalid/,
  })),
  // Chunk sizes and extensions.
  {
    name: "chunk-size overflow (17 hex digits)",
    request: POST + "Transfer-Encoding: chunked\r\n\r\n1" + "0".repeat(16) + "\r\nabc",
    status: 400,
    reason: /chunk size is too large/,
  },
  {
    name: "chunk-size wrapping to a small number in 64 bits",
    request: POST + "Transfer-Encoding: chunked\r\n\r\n10000000000000003\r\nabc\r\n0\r\n\r\n",
    status: 400,
    reason: /chunk size is too large/,
  },
  ...["-3", "+3", "0x3", " 3", "3\x00", "", "g"].map((size): Refused => ({
    name: `chunk size ${JSON.stringify(size)}`,
    request: POST + `Transfer-Encoding: chunked\r\n\r\n${size}\r\nabc\r\n0\r\n\r\n`,
    status: 400,
    reason: /chunk size is not a hexadecimal number/,
  })),
  {
    name: "chunk-size line with a bare LF",
    request: POST + "Transfer-Encoding: chunked\r\n\r\n3\nabc\r\n0\r\n\r\n",
    status: 400,
    reason: /chunk-size line ends with a bare LF/,
  },
  {
    name: "chunk data longer than its size",
    request: POST + "Transfer-Encoding: chunked\r\n\r\n3\r\nabcd\r\n0\r\n\r\n",
    status: 400,
    reason: /chunk data is not followed by CRLF/,
  },
  {
    name: "chunk extension longer than 4096 bytes",
    request: POST + `Transfer-Encoding: chunked\r\n\r\n3;x=${"a".repeat(5000)}\r\nabc\r\n0\r\n\r\n`,
    status: 400,
    reason: /chunk-size line is longer than 4096 bytes/,
  },
  {
    name: "many chunk extensions over one body (> 16 KiB)",
    request: POST + "Transfer-Encoding: chunked\r\n\r\n" +
      `1;x=${"a".repeat(4000)}\r\nz\r\n`.repeat(5) + "0\r\n\r\n",
    status: 400,
    reason: /chunk extensions exceed 16384 bytes/,
  },
  {
    name: "chunk extension with a bare CR",
    request: POST + "Transfer-Encoding: chunked\r\n\r\n3;a=b\rc\r\nabc\r\n0\r\n\r\n",
    status: 400,
    reason: /chunk-size line contains a CR not followed by LF/,
  },
  // Chunk lines where parsers disagree: a bare ";" and whitespace around the size or extensions.
  ...[
    ["3;", /chunk extension has no name/],
    ["3;;a", /chunk extension has no name/],
    ["3 ", /chunk size is followed by whitespace/],
    ["3\t;a", /chunk size is followed by whitespace/],
    ["3; a=b", /chunk extension contains whitespace/],
    ["3;a = b", /chunk extension contains whitespace/],
  ].map(([line, reason]): Refused => ({
    name: `chunk line ${JSON.stringify(line)}`,
    request: POST + `Transfer-Encoding: chunked\r\n\r\n${line}\r\nabc\r\n0\r\n\r\n`,
    status: 400,
    reason: reason as RegExp,
  })),
  // Chunk lines that can no longer become valid: refused at once, with no line end (or EOF) sent.
  ...[
    ['3;a="b\r', /quoted string that does not close/],
    ['3;a="b\r\nabc\r\n0\r\n\r\n', /quoted string that does not close/],
    ["3;a b", /chunk extension contains whitespace/],
    ["3;a\x01", /chunk extension contains a control character/],
    ["3\rx", /CR not followed by LF/],
    ["3\r\nabc\r\n0\r\nX: a\rb", /trailer line contains a CR not followed by LF/],
  ].map(([partial, reason]): Refused => ({
    name: `chunk line that cannot become valid: ${JSON.stringify(partial)}`,
    request: POST + `Transfer-Encoding: chunked\r\n\r\n${partial}`,
    status: 400,
    reason: reason as RegExp,
  })),
  // Line endings and forbidden bytes.
  {
    name: "bare CR inside a header value",
    request: GET + "X: a\rContent-Length: 40\r\n\r\n",
    status: 400,
    reason: /value contains CR/,
  },
  {
    name: "bare LF line ends",
    request: "GET {url} HTTP/1.1\nHost: {host}\nContent-Length: 3\n\nabc",
    status: 400,
    reason: /bare LF/,
  },
  {
    name: "a bare LF ending one header line",
    request: GET + "X: a\nContent-Length: 40\r\n\r\n",
    status: 400,
    reason: /bare LF/,
  },
  {
    name: "NUL in a header value",
    request: GET + "X: a\x00b\r\n\r\n",
    status: 400,
    reason: /value contains NUL/,
  },
  {
    name: "NUL in a header name",
    request: GET + "X\x00Y: a\r\n\r\n",
    status: 400,
    reason: /name contains an invalid character/,
  },
  {
    name: "NUL in the request-target",
    request: "GET {url}a\x00b HTTP/1.1\r\nHost: {host}\r\n\r\n",
    status: 400,
    reason: /request-target contains a control character/,
  },
  ...["caf\xe9", "\x80", "?q=\xff", "\xc3\xa9"].map((path): Refused => ({
    name: `a byte above 0x7F in the request-target (${hexOf(path)})`,
    request: `GET {url}${path} HTTP/1.1\r\nHost: {host}\r\n\r\n`,
    status: 400,
    reason: /request-target contains a byte above 0x7F/,
  })),
  {
    name: "obs-fold",
    request: GET + "X: a\r\n\tb\r\n\r\n",
    status: 400,
    reason: /obsolete line folding/,
  },
  {
    name: "header line without a colon",
    request: GET + "Content-Length 3\r\n\r\nabc",
    status: 400,
    reason: /line has no colon/,
  },
  {
    name: "header with an empty name",
    request: GET + ": x\r\n\r\n",
    status: 400,
    reason: /empty name/,
  },
  {
    name: "two Host fields",
    request: GET + "Host: evil.example\r\n\r\n",
    status: 400,
    reason: /more than one Host header/,
  },
  // Request line.
  ...["G(T", "GET\t", "GE\x00T", "\x7fGET"].map((method): Refused => ({
    name: `invalid method ${JSON.stringify(method)}`,
    request: `${method} {url} HTTP/1.1\r\nHost: {host}\r\n\r\n`,
    status: 400,
    reason: /method is not a valid token/,
  })),
  {
    name: "space in the request-target",
    request: "GET {url}a b HTTP/1.1\r\nHost: {host}\r\n\r\n",
    status: 400,
    reason: /extra spaces/,
  },
  {
    name: "two spaces after the method",
    request: "GET  {url} HTTP/1.1\r\nHost: {host}\r\n\r\n",
    status: 400,
    reason: /two spaces in a row/,
  },
  {
    name: "a fragment in the request-target",
    request: "GET {url}#frag HTTP/1.1\r\nHost: {host}\r\n\r\n",
    status: 400,
    reason: /fragment/,
  },
  {
    name: "a target that is neither path, URL nor authority",
    request: "GET {host} HTTP/1.1\r\nHost: {host}\r\n\r\n",
    status: 400,
    reason: /not a path, URL or host:port/,
  },
  ...["HTTP/1.1x", "HTTP/1.10", "http/1.1", "HTTP/1", "HTTP/1.1 "].map((v): Refused => ({
    name: `invalid version ${JSON.stringify(v)}`,
    request: `GET {url} ${v}\r\nHost: {host}\r\n\r\n`,
    status: 400,
    reason: /HTTP version is malformed|extra spaces/,
  })),
  ...["HTTP/2.0", "HTTP/3.0", "HTTP/0.9"].map((v): Refused => ({
    name: `unsupported version ${v}`,
    request: `GET {url} ${v}\r\nHost: {host}\r\n\r\n`,
    status: 505,
    reason: /is not supported; this proxy speaks HTTP\/1\.x/,
  })),
  {
    name: "HTTP/0.9 simple request",
    request: "GET /\r\n\r\n",
    status: 400,
    reason: /HTTP\/0\.9 is not supported/,
  },
  {
    name: "absolute-form with userinfo",
    request: "GET http://user:pw@{host}/ HTTP/1.1\r\nHost: {host}\r\n\r\n",
    status: 400,
    reason: /userinfo/,
  },
  {
    name: "absolute-form with an @ hiding the real host",
    request: "GET http://{host}@evil.example/ HTTP/1.1\r\nHost: {host}\r\n\r\n",
    status: 400,
    reason: /userinfo/,
  },
  {
    name: "oversized head",
    request: GET + `X: ${"a".repeat(70_000)}\r\n\r\n`,
    status: 431,
    reason: /request head is larger than 65536 bytes/,
  },
  {
    name: "too many header fields",
    request: GET + "X: 1\r\n".repeat(300) + "\r\n",
    status: 431,
    reason: /more than 256 header fields/,
  },
  // Framing lookalikes: CGI-style servers read "_" as "-", this parser would not.
  {
    name: "Transfer_Encoding (underscore) hiding a chunked body",
    request: POST + "Transfer_Encoding: chunked\r\n\r\n27\r\n" + HIDDEN + "\r\n0\r\n\r\n",
    status: 400,
    reason: /request header Transfer_Encoding could be read as Transfer-Encoding by other servers/,
  },
  {
    name: "Content-Length with a Transfer_Encoding (underscore)",
    request: POST + "Content-Length: 5\r\ntransfer_encoding: chunked\r\n\r\n0\r\n\r\n",
    status: 400,
    reason: /request header transfer_encoding could be read as transfer-encoding/,
  },
  {
    name: "Content_Length (underscore)",
    request: POST + "Content_Length: 39\r\n\r\n" + HIDDEN,
    status: 400,
    reason: /request header Content_Length could be read as Content-Length/,
  },
];

const normalised: Normalised[] = [
  // RFC 9110 section 2.5: an intermediary sends its own version; the flow keeps the client's.
  ...["HTTP/1.7", "HTTP/1.2", "HTTP/1.9"].map((v): Normalised => ({
    name: `version ${v} goes on as HTTP/1.1`,
    request: `GET {url} ${v}\r\nHost: {host}\r\n\r\n`,
    forwarded: "GET / HTTP/1.1\r\nHost: {host}\r\n\r\n",
  })),
  {
    name: "version HTTP/1.0 stays HTTP/1.0",
    request: "GET {url} HTTP/1.0\r\nHost: {host}\r\n\r\n",
    forwarded: "GET / HTTP/1.0\r\nHost: {host}\r\n\r\n",
  },
  {
    name: "Transfer-Encoding with OWS and upper case goes on as chunked; extensions are dropped",
    request: POST + 'Transfer-Encoding: \t CHUNKED \t\r\n\r\n3;a=b;c="d;e"\r\nabc\r\n0\r\n\r\n',
    forwarded: "POST / HTTP/1.1\r\nHost: {host}\r\nTransfer-Encoding: chunked\r\n\r\n" +
      "3\r\nabc\r\n0\r\n\r\n",
  },
  // Framing values go on in canonical form: some origins misread the spellings accepted here.
  ...[",chunked", "chunked,", " , chunked", "Chunked"].map((te): Normalised => ({
    name: `Transfer-Encoding ${JSON.stringify(te)} goes on as "chunked"`,
    request: POST + `Transfer-Encoding: ${te}\r\n\r\n3\r\nabc\r\n0\r\n\r\n`,
    forwarded: "POST / HTTP/1.1\r\nHost: {host}\r\nTransfer-Encoding: chunked\r\n\r\n" +
      "3\r\nabc\r\n0\r\n\r\n",
  })),
  {
    name: "two Transfer-Encoding fields go on as one canonical list",
    request: POST + "Transfer-Encoding: GZIP\r\nX: 1\r\nTransfer-Encoding: chunked\r\n\r\n" +
      "3\r\nabc\r\n0\r\n\r\n",
    forwarded:
      "POST / HTTP/1.1\r\nHost: {host}\r\nTransfer-Encoding: gzip, chunked\r\nX: 1\r\n\r\n" +
      "3\r\nabc\r\n0\r\n\r\n",
  },
  ...["0003", "03, 3", "000000000000003"].map((cl): Normalised => ({
    name: `Content-Length ${JSON.stringify(cl)} goes on as "3"`,
    request: POST + `Content-Length: ${cl}\r\n\r\nabc`,
    forwarded: "POST / HTTP/1.1\r\nHost: {host}\r\nContent-Length: 3\r\n\r\nabc",
  })),
  {
    name: 'Content-Length "000" goes on as "0"',
    request: POST + "Content-Length: 000\r\n\r\n",
    forwarded: "POST / HTTP/1.1\r\nHost: {host}\r\nContent-Length: 0\r\n\r\n",
  },
  {
    name: "chunk sizes with leading zeros and upper-case hex are re-chunked canonically",
    request: POST + "Transfer-Encoding: chunked\r\n\r\n000A\r\n0123456789\r\n00\r\n\r\n",
    forwarded: "POST / HTTP/1.1\r\nHost: {host}\r\nTransfer-Encoding: chunked\r\n\r\n" +
      "a\r\n0123456789\r\n0\r\n\r\n",
  },
  {
    name: "a chunked body holding a request is data, not a second request",
    request: POST + "Transfer-Encoding: chunked\r\n\r\n" +
      `${HIDDEN_HEX}\r\n${HIDDEN}\r\n0\r\n\r\n`,
    forwarded: "POST / HTTP/1.1\r\nHost: {host}\r\nTransfer-Encoding: chunked\r\n\r\n" +
      `${HIDDEN_HEX}\r\n${HIDDEN}\r\n0\r\n\r\n`,
  },
  {
    name: "two equal Content-Length fields become one",
    request: POST + "Content-Length: 3\r\nContent-Length: 3\r\n\r\nabc",
    forwarded: "POST / HTTP/1.1\r\nHost: {host}\r\nContent-Length: 3\r\n\r\nabc",
  },
  {
    name: "a Content-Length list of equal values becomes one value",
    request: POST + "Content-Length: 3,3 , 3\r\n\r\nabc",
    forwarded: "POST / HTTP/1.1\r\nHost: {host}\r\nContent-Length: 3\r\n\r\nabc",
  },
  {
    name: "Content-Length with OWS is trimmed",
    request: POST + "Content-Length: \t 3 \t\r\n\r\nabc",
    forwarded: "POST / HTTP/1.1\r\nHost: {host}\r\nContent-Length: 3\r\n\r\nabc",
  },
  {
    name: "a Content-Length body holding a request is data",
    request: POST + `Content-Length: ${HIDDEN.length}\r\n\r\n` + HIDDEN,
    forwarded: `POST / HTTP/1.1\r\nHost: {host}\r\nContent-Length: ${HIDDEN.length}\r\n\r\n` +
      HIDDEN,
  },
  {
    name: "a Host that disagrees with the absolute-form target is replaced",
    request: "GET {url}x HTTP/1.1\r\nHost: evil.example\r\n\r\n",
    forwarded: "GET /x HTTP/1.1\r\nHost: {host}\r\n\r\n",
  },
  {
    name: "Connection-listed fields and Proxy-Authorization are dropped",
    request: GET + "Connection: keep-alive, Content-Length\r\nProxy-Authorization: Basic eA==\r\n" +
      "X: 1\r\n\r\n",
    forwarded: "GET / HTTP/1.1\r\nHost: {host}\r\nX: 1\r\n\r\n",
  },
  {
    name: "Connection cannot make the proxy drop Content-Length (the body would become a request)",
    request: POST + "Connection: Content-Length\r\nContent-Length: 39\r\n\r\n" + HIDDEN,
    forwarded: "POST / HTTP/1.1\r\nHost: {host}\r\nContent-Length: 39\r\n\r\n" + HIDDEN,
  },
  {
    name: "Connection cannot make the proxy drop Transfer-Encoding",
    request: POST + "Connection: close, Transfer-Encoding\r\nTransfer-Encoding: chunked\r\n\r\n" +
      `${HIDDEN_HEX}\r\n${HIDDEN}\r\n0\r\n\r\n`,
    forwarded: "POST / HTTP/1.1\r\nHost: {host}\r\nTransfer-Encoding: chunked\r\n\r\n" +
      `${HIDDEN_HEX}\r\n${HIDDEN}\r\n0\r\n\r\n`,
  },
  {
    name: "Connection cannot make the proxy drop Host",
    request: "GET {url} HTTP/1.1\r\nConnection: host\r\nHost: {host}\r\n\r\n",
    forwarded: "GET / HTTP/1.1\r\nHost: {host}\r\n\r\n",
  },
  {
    name: "empty lines before the request line are skipped",
    request: "\r\n\r\n" + GET + "\r\n",
    forwarded: "GET / HTTP/1.1\r\nHost: {host}\r\n\r\n",
  },
];

/** "caf\xe9" as "63 61 66 e9", for test names that stay readable. */
function hexOf(text: string): string {
  return [...text].map((c) => c.charCodeAt(0).toString(16).padStart(2, "0")).join(" ");
}

function fill(template: string, port: number): string {
  return template.replaceAll("{url}", `http://127.0.0.1:${port}/`).replaceAll(
    "{host}",
    `127.0.0.1:${port}`,
  );
}

for (const c of refused) {
  test(`smuggling, refused: ${c.name}`, async () => {
    const origin = await recordingOrigin();
    try {
      await withRealProxy({}, async (proxy) => {
        const { text, closed } = await exchange(proxy.address.port, fill(c.request, origin.port));
        assert.match(text, new RegExp(`^HTTP/1\\.1 ${c.status} `), JSON.stringify(text));
        assert.match(text, c.reason);
        assert.match(text, /\r\nConnection: close\r\n/);
        assert.ok(closed, "the proxy closed the connection");
        const body = text.slice(text.indexOf("\r\n\r\n") + 4);
        assert.equal(body.trimEnd().split("\n").length, 1, `one-line reason: ${body}`);
        // Whatever reached the origin (a head streamed before a body error) is never a complete
        // request, and that origin connection is closed.
        assert.ok(await eventually(() => origin.connections.every((o) => o.ended)));
        assert.equal(countRequests(origin.all()).complete, 0, JSON.stringify(origin.all()));
      });
    } finally {
      await origin.close();
    }
  });
}

for (const c of normalised) {
  test(`smuggling, normalised: ${c.name}`, async () => {
    const origin = await recordingOrigin();
    try {
      await withRealProxy({}, async (proxy) => {
        const request = fill(c.request, origin.port);
        const { text } = await exchange(proxy.address.port, request, (r) => r.endsWith("\r\nok"));
        assert.equal(text.slice(0, 15), "HTTP/1.1 200 OK");
        const got = origin.all();
        assert.equal(got, fill(c.forwarded, origin.port));
        const parsed = countRequests(got);
        assert.deepEqual(parsed, { complete: 1, rest: 0, error: "" });
      });
    } finally {
      await origin.close();
    }
  });
}

// ---- responses ----

interface BadResponse {
  name: string;
  response: string;
  reason: RegExp;
}

const badResponses: BadResponse[] = [
  {
    name: "Content-Length and Transfer-Encoding",
    response: "HTTP/1.1 200 OK\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n",
    reason: /response has both Content-Length and Transfer-Encoding/,
  },
  {
    name: "two different Content-Length fields",
    response: "HTTP/1.1 200 OK\r\nContent-Length: 2\r\nContent-Length: 20\r\n\r\nok",
    reason: /differing Content-Length values/,
  },
  ...["+2", "-2", "2 2", "0x2", "\x0b2"].map((cl): BadResponse => ({
    name: `Content-Length ${JSON.stringify(cl)}`,
    response: `HTTP/1.1 200 OK\r\nContent-Length: ${cl}\r\n\r\nok`,
    reason: /response Content-Length ".*" is invalid/,
  })),
  ...["identity, chunked", "xchunked, chunked"].map((te): BadResponse => ({
    name: `Transfer-Encoding ${JSON.stringify(te)}`,
    response: `HTTP/1.1 200 OK\r\nTransfer-Encoding: ${te}\r\n\r\n2\r\nok\r\n0\r\n\r\n`,
    reason: /response Transfer-Encoding ".*" is not a supported coding/,
  })),
  {
    name: "chunked twice",
    response: "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n\r\n",
    reason: /applies the chunked coding twice/,
  },
  {
    name: "obs-fold",
    response: "HTTP/1.1 200 OK\r\nX: a\r\n b\r\nContent-Length: 2\r\n\r\nok",
    reason: /obsolete line folding/,
  },
  {
    name: "bare CR in a header value",
    response: "HTTP/1.1 200 OK\r\nX: a\rContent-Length: 9\r\nContent-Length: 2\r\n\r\nok",
    reason: /value contains CR/,
  },
  {
    name: "NUL in a header value",
    response: "HTTP/1.1 200 OK\r\nX: a\x00\r\nContent-Length: 2\r\n\r\nok",
    reason: /value contains NUL/,
  },
  {
    name: "bare CR in a header value of an LF-only head",
    response: "HTTP/1.1 200 OK\nX: a\rContent-Length: 9\nContent-Length: 2\n\nok",
    reason: /value contains CR/,
  },
  {
    name: "space before the colon",
    response: "HTTP/1.1 200 OK\r\nContent-Length : 2\r\n\r\nok",
    reason: /whitespace before the colon/,
  },
  ...["HTTP/1.1 2000 OK", "HTTP/1.1 20 OK", "HTTP/1.1 OK", "HTTP/1.1 200OK", "HTTP/1.1  200 OK"]
    .map((line): BadResponse => ({
      name: `status line ${JSON.stringify(line)}`,
      response: `${line}\r\nContent-Length: 2\r\n\r\nok`,
      reason: /no valid three-digit status code/,
    })),
  ...["HTTP/2 200 OK", "HTTP/2.0 200 OK", "ok, no head at all", "http/1.1 200 OK"].map((
    line,
  ): BadResponse => ({
    name: `status line ${JSON.stringify(line)}`,
    response: `${line}\r\nContent-Length: 2\r\n\r\nok`,
    reason: /status line does not start with HTTP\/1\.x/,
  })),
  {
    name: "reason phrase with NUL",
    response: "HTTP/1.1 200 O\x00K\r\nContent-Length: 2\r\n\r\nok",
    reason: /reason phrase contains NUL or CR/,
  },
  {
    name: "Transfer_Encoding (underscore)",
    response: "HTTP/1.1 200 OK\r\nTransfer_Encoding: chunked\r\nContent-Length: 2\r\n\r\nok",
    reason: /response header Transfer_Encoding could be read as Transfer-Encoding/,
  },
  {
    name: "Content_Length (underscore)",
    response: "HTTP/1.1 200 OK\r\nContent_Length: 2\r\n\r\nok",
    reason: /response header Content_Length could be read as Content-Length/,
  },
  {
    name: "oversized head",
    response: `HTTP/1.1 200 OK\r\nX: ${"a".repeat(70_000)}\r\nContent-Length: 2\r\n\r\nok`,
    reason: /response head is larger than 65536 bytes/,
  },
];

for (const c of badResponses) {
  test(`smuggling, bad response refused with 502: ${c.name}`, async () => {
    // The origin keeps its connection open: the proxy must not need EOF to give up.
    const origin = await recordingOrigin(() => c.response);
    try {
      await withRealProxy({}, async (proxy) => {
        const { text, closed } = await exchange(
          proxy.address.port,
          fill(GET + "\r\n", origin.port),
        );
        assert.match(text, /^HTTP\/1\.1 502 Bad Gateway\r\n/, JSON.stringify(text.slice(0, 200)));
        assert.match(text, c.reason);
        assert.match(text, /\r\nConnection: close\r\n/);
        assert.ok(closed, "the client connection is closed");
        assert.ok(
          await eventually(() => origin.connections.every((o) => o.ended)),
          "the origin connection is closed, not pooled",
        );
      });
    } finally {
      await origin.close();
    }
  });
}

/**
 * Body errors: when the whole bad response arrives before any of it went out (the proxy sends the
 * head with the first body bytes), the client gets a 502 with the reason instead.
 */
const badResponseBodies: Array<[string, string, RegExp]> = [
  ["chunk-size overflow", "1" + "0".repeat(16) + "\r\nok\r\n0\r\n\r\n", /chunk size/],
  ["chunk size that is not hex", "zz\r\nok\r\n0\r\n\r\n", /chunk size/],
  ["chunk size with a sign", "+2\r\nok\r\n0\r\n\r\n", /chunk size/],
  ["chunk longer than its size", "1\r\nok\r\n0\r\n\r\n", /chunk/],
  [
    "chunk extension over 4096 bytes",
    `2;${"x".repeat(5000)}\r\nok\r\n0\r\n\r\n`,
    /chunk-size line is longer/,
  ],
  ["obs-fold in trailers", "2\r\nok\r\n0\r\nX: a\r\n b\r\n\r\n", /obsolete line folding/],
  // Lines that can no longer become valid: refused with no line end sent (the origin stays open).
  ["an extension whose quoted string does not close", '2;a="b\r', /does not close/],
  ["a control character in an extension", "2;a\x01", /control character/],
  ["a chunk line with a CR not followed by LF", "2\rx", /CR not followed by LF/],
  ["a trailer with a bare CR", "2\r\nok\r\n0\r\nX: a\rb", /trailer line contains a CR/],
];

for (const [name, body, reason] of badResponseBodies) {
  test(`smuggling, bad response body refused with 502: ${name}`, async () => {
    const head = "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n";
    const origin = await recordingOrigin(() => head + body);
    try {
      await withRealProxy({}, async (proxy) => {
        const { text, closed } = await exchange(
          proxy.address.port,
          fill(GET + "\r\n", origin.port) + fill(GET + "\r\n", origin.port),
        );
        assert.match(text, /^HTTP\/1\.1 502 Bad Gateway\r\n/, JSON.stringify(text.slice(0, 200)));
        const answer = text.slice(text.indexOf("\r\n\r\n") + 4);
        assert.match(answer, /^mitm\.ts got a bad response from 127\.0\.0\.1:\d+: .*\.\n$/);
        assert.match(answer, reason);
        assert.match(text, /\r\nConnection: close\r\n/);
        assert.ok(closed, "the client connection is closed");
        assert.ok(!text.includes(OK_RESPONSE), "the second request was not answered");
        assert.ok(await eventually(() => origin.connections.every((o) => o.ended)));
      });
    } finally {
      await origin.close();
    }
  });
}

test("smuggling, a bad response body after the head went out closes the client connection", async () => {
  // The origin sends the head and a first chunk, and the bad chunk size only once the client has
  // received those: then closing is the only way left to tell the client.
  const head = "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n";
  let originSocket: net.Socket | null = null;
  const origin = await rawServer((s: net.Socket) => {
    s.once("data", () => {
      originSocket = s;
      s.write(head + "5\r\nfirst\r\n");
    });
  });
  try {
    await withRealProxy({}, async (proxy) => {
      const client = await connect(proxy.address.port);
      let closed = false;
      client.on("close", () => (closed = true));
      client.on("end", () => (closed = true));
      try {
        client.write(fill(GET + "\r\n", origin.port));
        const first = await readUntil(client, (b) => b.toString("latin1").includes("first"));
        assert.ok(first.toString("latin1").startsWith(head));
        originSocket!.write("zz\r\nok\r\n0\r\n\r\n");
        const rest = await readUntil(client, () => false);
        assert.ok(closed, "the client connection is closed");
        assert.equal(rest.toString("latin1"), "", "nothing follows the truncated body");
      } finally {
        client.destroy();
      }
      assert.ok(
        await eventually(() => origin.sockets.every((o) => o.readableEnded || o.destroyed)),
      );
    });
  } finally {
    await origin.close();
  }
});

test("smuggling, a response version HTTP/1.7 goes to the client as HTTP/1.1", async () => {
  const origin = await recordingOrigin(() => "HTTP/1.7 200 OK\r\nContent-Length: 2\r\n\r\nok");
  try {
    await withRealProxy({}, async (proxy) => {
      const { text } = await exchange(
        proxy.address.port,
        fill(GET + "\r\n", origin.port),
        (r) => r.endsWith("\r\nok"),
      );
      assert.equal(text, "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok");
    });
  } finally {
    await origin.close();
  }
});

// RFC 9112 section 6.3: a response whose final transfer coding is not chunked has a body that runs
// until the origin closes the connection, whatever that coding is.
for (const te of ["xchunked", "chunked, identity", "identity", "\x0cchunked", "gzip"]) {
  test(`response with Transfer-Encoding ${JSON.stringify(te)} is read until the origin closes`, async () => {
    const body = "2\r\nok\r\n0\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n";
    const origin = await rawServer((s: net.Socket) => {
      s.once("data", () => s.end(`HTTP/1.1 200 OK\r\nTransfer-Encoding: ${te}\r\n\r\n${body}`));
    });
    try {
      await withRealProxy({}, async (proxy) => {
        const { text, closed } = await exchange(
          proxy.address.port,
          fill(GET + "\r\n", origin.port) + fill(GET + "\r\n", origin.port),
        );
        assert.equal(
          text,
          `HTTP/1.1 200 OK\r\nTransfer-Encoding: ${te}\r\nConnection: close\r\n\r\n${body}`,
        );
        assert.ok(closed, "the client connection ends with the body");
      });
    } finally {
      await origin.close();
    }
  });
}

/**
 * RFC 9112 section 2.2 lets a recipient accept a bare LF as a line end, and browsers load such
 * pages: responses with LF-only or mixed line ends are read that way and go to the client with
 * CRLF (requests with them stay refused, above).
 */
const lfResponses: Array<[name: string, response: string, forwarded: string]> = [
  [
    "LF-only head",
    "HTTP/1.1 200 OK\nContent-Length: 2\nX-A: 1\n\nok",
    "HTTP/1.1 200 OK\r\nContent-Length: 2\r\nX-A: 1\r\n\r\nok",
  ],
  [
    "mixed line ends",
    "HTTP/1.1 200 OK\r\nContent-Length: 2\nX-A: 1\r\n\nok",
    "HTTP/1.1 200 OK\r\nContent-Length: 2\r\nX-A: 1\r\n\r\nok",
  ],
  [
    "LF-only chunked body with trailers",
    "HTTP/1.1 200 OK\nTransfer-Encoding: chunked\n\n2\nok\n0\nT: 1\n\n",
    "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nok\r\n0\r\nT: 1\r\n\r\n",
  ],
  [
    "LF-only 204 then the connection is reused",
    "HTTP/1.1 204 No Content\nX-A: 1\n\n",
    "HTTP/1.1 204 No Content\r\nX-A: 1\r\n\r\n",
  ],
];

for (const [name, response, forwarded] of lfResponses) {
  test(`response line ends: ${name} is read and sent on with CRLF`, async () => {
    const origin = await recordingOrigin(() => response);
    try {
      await withRealProxy({}, async (proxy) => {
        const twice = forwarded + forwarded;
        const { text } = await exchange(
          proxy.address.port,
          fill(GET + "\r\n", origin.port) + fill(GET + "\r\n", origin.port),
          (r) => r.length >= twice.length,
        );
        assert.equal(text, twice);
        // Both requests went over one origin connection: the framing was read exactly.
        assert.equal(origin.connections.length, 1);
        assert.equal(countRequests(origin.all()).complete, 2);
      });
    } finally {
      await origin.close();
    }
  });
}

// A pipelined request must not cost a second origin connection (the layered core once dialled
// again because the second request was read while the first exchange still held its connection).
test("pipelined requests share one origin connection", async () => {
  const origin = await recordingOrigin(() => OK_RESPONSE);
  try {
    await withRealProxy({}, async (proxy) => {
      const twice = OK_RESPONSE + OK_RESPONSE;
      const { text } = await exchange(
        proxy.address.port,
        fill(GET + "\r\n", origin.port) + fill(GET + "\r\n", origin.port),
        (r) => r.length >= twice.length,
      );
      assert.equal(text, twice);
      assert.equal(origin.connections.length, 1);
    });
  } finally {
    await origin.close();
  }
});

/**
 * Chunk lines browsers read although RFC 9112 does not allow them (a bare ";", whitespace after
 * the size or around extensions): read the same way, and sent on re-chunked canonically.
 */
test("response chunk lines with a bare ';' or whitespace are read as browsers read them", async () => {
  const head = "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n";
  const lines = ["2;", "2 ", "2\t;", "2 ; a = b", "2;a b", "2;;"];
  const response = head + lines.map((l) => `${l}\r\nok\r\n`).join("") + "0\r\n\r\n";
  const origin = await recordingOrigin(() => response);
  try {
    await withRealProxy({}, async (proxy) => {
      const { text } = await exchange(
        proxy.address.port,
        fill(GET + "\r\n", origin.port),
        (r) => r.endsWith("\r\n0\r\n\r\n"),
      );
      assert.ok(text.startsWith(head), JSON.stringify(text));
      const body = text.slice(head.length);
      // Chunk boundaries depend on how the bytes arrived; the lines are bare sizes now.
      const chunks = [...body.matchAll(/([0-9a-f]+)\r\n/g)];
      assert.match(body, /^(?:[0-9a-f]+\r\n(?:ok)+\r\n)+0\r\n\r\n$/, JSON.stringify(body));
      assert.ok(chunks.length >= 2);
      assert.equal(body.replace(/[0-9a-f]+\r\n|\r\n/g, ""), "ok".repeat(lines.length));
      assert.equal(origin.connections.length, 1);
    });
  } finally {
    await origin.close();
  }
});

test("framing values: the flow keeps what the client sent, the origin gets the canonical form", async () => {
  const origin = await recordingOrigin(() => "HTTP/1.1 200 OK\r\nContent-Length: 0002\r\n\r\nok");
  const seen: Array<[string, string][]> = [];
  try {
    await withRealProxy({}, async (proxy) => {
      const request = fill(POST, origin.port) + "Content-Length: 0005\r\n\r\nhello";
      const { text } = await exchange(proxy.address.port, request, (r) => r.endsWith("\r\nok"));
      // The response's framing goes to the client canonical too.
      assert.equal(text, "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok");
      assert.equal(
        origin.all(),
        fill("POST / HTTP/1.1\r\nHost: {host}\r\nContent-Length: 5\r\n\r\nhello", origin.port),
      );
      assert.ok(await eventually(() => seen.length === 2));
      assert.deepEqual(seen[0], [["Host", `127.0.0.1:${origin.port}`], ["Content-Length", "0005"]]);
      assert.deepEqual(seen[1], [["Content-Length", "0002"]]);
    }, {
      addons: [{
        flow_done: (f: Flow) => {
          seen.push([...f.request.headers.entries()], [...f.response!.headers.entries()]);
        },
      }],
    });
  } finally {
    await origin.close();
  }
});

test("curl through the proxy reads an LF-only response as it would directly", async () => {
  const origin = await recordingOrigin(() =>
    "HTTP/1.1 200 OK\nContent-Type: text/plain\nTransfer-Encoding: chunked\n\n5\nhello\n0\n\n"
  );
  try {
    await withRealProxy({}, async (proxy) => {
      const url = `http://127.0.0.1:${origin.port}/page`;
      const direct = await curl([url]);
      const proxied = await curl(["-x", `http://127.0.0.1:${proxy.address.port}`, url]);
      assert.equal(direct.code, 0, direct.stderr);
      assert.equal(proxied.code, 0, proxied.stderr);
      assert.equal(proxied.stdout, "hello");
      assert.equal(proxied.stdout, direct.stdout);
    });
  } finally {
    await origin.close();
  }
});
