/**
 * `tau mcp`: the MCP server over stdio for a local agent host. It talks to the daemon with the
 * CLI's own client (the local key, or TAU_HOST + TAU_API_KEY) and shows the tools that key's
 * scope may use. Resolves when the host closes stdin.
 */
import { StdioServerTransport } from "@modelcontextprotocol/sdk/server/stdio.js";
import { connect } from "../cli/client.ts";
import type { ApiKeyScope } from "../store/mod.ts";
import type { CommandSpec } from "../cli/spec.ts";
import { createMcpServer } from "./server.ts";

export async function serveStdio(commands: Record<string, CommandSpec>): Promise<void> {
  const client = await connect();
  // Before serving: an unreachable daemon or a bad key is the command's error, as JSON.
  const { scope } = await client.request("GET", "/whoami") as { scope: ApiKeyScope };
  const server = createMcpServer(client, scope, commands);
  const transport = new StdioServerTransport();
  const closed = new Promise<void>((resolve) => (transport.onclose = () => resolve()));
  await server.connect(transport);
  await closed;
}
