/**
 * POST /mcp: the Streamable HTTP transport, stateless. Each request gets its own server and
 * transport and a plain JSON answer, so nothing is kept between requests and nothing needs
 * closing at shutdown. There is no server-initiated stream, so GET and DELETE are 405 (the
 * transport's specification allows that); clients then just POST.
 */
// @ts-types="@modelcontextprotocol/sdk/server/webStandardStreamableHttp"
import { WebStandardStreamableHTTPServerTransport } from "@modelcontextprotocol/sdk/server/webStandardStreamableHttp.js";
import type { ControlApi } from "./control_api.ts";
import { createMcpServer } from "./server.ts";

export async function handleMcpRequest(request: Request, api: ControlApi): Promise<Response> {
  if (request.method !== "POST") {
    return Response.json(
      {
        jsonrpc: "2.0",
        error: { code: -32000, message: `${request.method} is not supported: POST JSON-RPC here` },
        id: null,
      },
      { status: 405, headers: { Allow: "POST" } },
    );
  }
  const server = createMcpServer(api);
  const transport = new WebStandardStreamableHTTPServerTransport({
    sessionIdGenerator: undefined,
    enableJsonResponse: true,
  });
  await server.connect(transport);
  try {
    return await transport.handleRequest(request);
  } finally {
    await server.close();
  }
}
