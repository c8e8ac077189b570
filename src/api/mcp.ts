/**
 * `/mcp`: Tau's MCP server over streamable HTTP, stateless (a server per request, JSON
 * answers). The bearer key is checked as for the API; each tool call is then an API call made
 * in-process with that same key, so its scope decides exactly as it does for the CLI.
 */
import type { Context, Hono } from "hono";
import { WebStandardStreamableHTTPServerTransport } from "@modelcontextprotocol/sdk/server/webStandardStreamableHttp.js";
import { type Client, RemoteError } from "../cli/client.ts";
import { createMcpServer } from "../mcp/server.ts";
import { COMMANDS } from "../cli/commands.ts";
import { MAX_BODY_BYTES } from "./_body.ts";

/** The API of `app` called in-process, with the caller's own Authorization header. */
function inProcessClient(app: Hono, authorization: string, origin: string): Client {
  return {
    baseUrl: origin,
    async request(method, path, body) {
      const response = await app.fetch(
        new Request(`${origin}/api/v1${path}`, {
          method,
          headers: {
            authorization,
            ...(body !== undefined ? { "content-type": "application/json" } : {}),
          },
          ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
        }),
      );
      const json = await response.json();
      if (!response.ok) throw new RemoteError(response.status, json);
      return json;
    },
  };
}

export async function serveMcp(c: Context, app: Hono): Promise<Response> {
  const origin = new URL(c.req.url).origin;
  const client = inProcessClient(app, c.req.header("authorization")!, origin);
  const server = createMcpServer(client, c.get("principal").scope, COMMANDS);
  const transport = new WebStandardStreamableHTTPServerTransport({
    sessionIdGenerator: undefined,
    enableJsonResponse: true,
    maxRequestBodySize: MAX_BODY_BYTES,
  });
  await server.connect(transport);
  try {
    return await transport.handleRequest(c.req.raw);
  } finally {
    await server.close();
  }
}
