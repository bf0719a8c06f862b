/** maxBodyBytes: 413 for requests and 502 for responses, declared or counted as bodies pass. */
import { test } from "node:test";
import {
  checkError,
  checkIO,
  data,
  end,
  reqHead,
  requestDriver,
  resHead,
  responseDriver,
} from "./helpers.ts";

const req = () => requestDriver({ maxBodyBytes: 5 });
const res = () => responseDriver(["GET"], { maxBodyBytes: 5 });

test("body limit: a request body at the limit passes, in every framing", () => {
  checkIO(req, "POST / HTTP/1.1\r\nContent-Length: 5\r\n\r\nabcde", [
    reqHead("POST", "/", ["Content-Length", "5"]),
    data("abcde"),
    end(),
  ]);
  checkIO(
    req,
    "POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nab\r\n3\r\ncde\r\n0\r\n\r\n",
    [
      reqHead("POST", "/", ["Transfer-Encoding", "chunked"]),
      data("abcde"),
      end(),
    ],
  );
});

test("body limit: a declared Content-Length over it is 413 at the head", () => {
  checkError(
    req,
    "POST / HTTP/1.1\r\nContent-Length: 6\r\n\r\n",
    413,
    /^request body is larger than the proxy's limit of 5 bytes$/,
  );
});

test("body limit: a chunked request is counted as it passes and refused with 413", () => {
  checkError(
    req,
    "POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n3\r\ndef\r\n0\r\n\r\n",
    413,
    /request body is larger than the proxy's limit of 5 bytes/,
  );
});

test("body limit: responses over it are 502 (declared, chunked or close-delimited)", () => {
  checkError(
    res,
    "HTTP/1.1 200 OK\r\nContent-Length: 6\r\n\r\nabcdef",
    502,
    /response body is larger/,
  );
  checkError(
    res,
    "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n6\r\nabcdef\r\n0\r\n\r\n",
    502,
    /response body is larger than the proxy's limit of 5 bytes/,
  );
  checkError(res, "HTTP/1.1 200 OK\r\n\r\nabcdef", 502, /response body is larger/, { eof: true });
});

test("body limit: a close-delimited response at the limit passes", () => {
  checkIO(res, "HTTP/1.1 200 OK\r\n\r\nabcde", [resHead(200, "OK"), data("abcde"), end()], {
    eof: true,
  });
});
