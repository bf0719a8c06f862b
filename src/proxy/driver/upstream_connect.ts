/**
 * A CONNECT tunnel through an upstream HTTP proxy, at dial time: the driver's OpenConnection of
 * a Server whose `via` is set and `tunnel` is true opens the upstream connection, asks for the
 * tunnel and hands the layers a connection that reaches the origin (as a plain dial would). The
 * exchange is parsed by the sans-IO H1Connection; only the reading and writing happen here.
 */
import { H1Connection } from "../../http1/connection.ts";
import { HttpError } from "../../http1/errors.ts";
import { HeaderList } from "../../http/headers.ts";
import { type Conn, NetError } from "../../runtime/types.ts";
import { type Endpoint, formatEndpoint } from "../core/connection.ts";

/**
 * Sends CONNECT for `target` on `conn` (a connection to the upstream proxy `via`) and reads the
 * answer. Resolves with the bytes received past the answer's head; rejects with a NetError
 * saying why the upstream proxy refused.
 */
export async function connectThrough(
  conn: Conn,
  via: Endpoint,
  target: Endpoint,
  authorization: string | null,
): Promise<Uint8Array> {
  const h1 = new H1Connection("client");
  const authority = formatEndpoint(target);
  const headers = new HeaderList(["Host", authority]);
  if (authorization !== null) headers.append("Proxy-Authorization", authorization);
  const name = `upstream proxy ${formatEndpoint(via)}`;
  for (
    const b of h1.send({
      type: "request",
      head: { method: "CONNECT", target: authority, version: "HTTP/1.1", headers },
    })
  ) {
    await conn.write(b);
  }
  h1.send({ type: "end", trailers: null });
  for (;;) {
    let ev;
    try {
      ev = h1.nextEvent();
    } catch (e) {
      throw new NetError("other", `${name}: ${e instanceof HttpError ? e.message : String(e)}`);
    }
    if (ev.type === "need-data") {
      const chunk = await conn.read();
      if (chunk === null) h1.receiveEof();
      else h1.receiveData(chunk);
      continue;
    }
    if (ev.type === "informational") continue;
    if (ev.type === "closed" || ev.type === "paused") {
      throw new NetError("closed", `${name} closed the connection instead of answering CONNECT`);
    }
    if (ev.type !== "response") continue;
    const status = ev.head.status;
    if (status >= 200 && status < 300) return h1.takeTrailingData();
    throw new NetError(
      status === 407 ? "permission" : "other",
      `${name} answered CONNECT with ${status} ${ev.head.reason}` +
        (status === 407 ? " (set --set upstream_auth=user:pass)" : ""),
    );
  }
}
