/**
 * Tau's MCP server: the tools (see tools.ts), resources and prompts, for one API key. Every
 * tool call is an API call made with that key, so the API's scopes and checks apply unchanged;
 * on top, a key is shown only the tools (and the inputs) its scope may use.
 */
import { McpServer } from "@modelcontextprotocol/sdk/server/mcp.js";
import type { CallToolResult } from "@modelcontextprotocol/sdk/types.js";
import { z } from "zod";
import type { Client } from "../cli/client.ts";
import { scopeAllows } from "../api/keys.ts";
import type { ApiKeyScope } from "../store/mod.ts";
import { VERSION } from "../version.ts";
import { bounded } from "./bounds.ts";
import { errorDocument } from "./errors.ts";
import { type ToolContext, TOOLS, type ToolSpec } from "./tools.ts";
import type { CommandSpec } from "../cli/spec.ts";
import { registerResources } from "./resources.ts";
import { registerPrompts } from "./prompts.ts";

/** The inputs of `spec` a key of `scope` may send. */
function inputsFor(spec: ToolSpec, scope: ApiKeyScope): z.ZodRawShape {
  return Object.fromEntries(
    Object.entries(spec.input).filter(([key]) =>
      scopeAllows(scope, spec.elevated?.[key] ?? spec.scope)
    ),
  );
}

/** The tools a key of `scope` sees, with the inputs it may send. */
export function toolsFor(scope: ApiKeyScope): [string, ToolSpec, z.ZodRawShape][] {
  return Object.entries(TOOLS)
    .filter(([, spec]) => scopeAllows(scope, spec.scope))
    .map(([name, spec]) => [name, spec, inputsFor(spec, scope)]);
}

async function callTool(
  spec: ToolSpec,
  name: string,
  ctx: ToolContext,
  input: unknown,
): Promise<CallToolResult> {
  try {
    const result = bounded(
      await spec.call(ctx, input ?? {}),
      name === "inspect"
        ? "call inspect with brief: true, and read the logs with the logs tool"
        : "ask for less: a smaller limit, or brief: true where the tool takes it",
    );
    return {
      content: [{ type: "text", text: JSON.stringify(result) }],
      structuredContent: result,
    };
  } catch (err) {
    return {
      isError: true,
      content: [{ type: "text", text: JSON.stringify(errorDocument(err)) }],
    };
  }
}

/** The server for one key: `client` calls the API with it; `commands` is the CLI's table. */
export function createMcpServer(
  client: Client,
  scope: ApiKeyScope,
  commands: Record<string, CommandSpec>,
): McpServer {
  const server = new McpServer(
    { name: "tau", version: VERSION },
    {
      instructions: "Tau runs TypeScript data pipelines, each run in a sandbox granted only what " +
        "its file declares. The loop: check → deploy → run → inspect; on failure, heal (the " +
        "diagnosis says what to change), fix, check, deploy again. Read tau://guide first.",
    },
  );
  for (const [name, spec, inputs] of toolsFor(scope)) {
    const readOnly = spec.readOnly ??
      Object.keys(inputs).every((key) => (spec.elevated?.[key] ?? spec.scope) === "read");
    server.registerTool(
      name,
      {
        description: spec.description ?? commands[name]!.description,
        // Strict: an input the key may not send is refused, never silently dropped.
        inputSchema: z.strictObject(inputs),
        outputSchema: z.looseObject(spec.output),
        annotations: readOnly ? { readOnlyHint: true, openWorldHint: false } : {
          readOnlyHint: false,
          destructiveHint: spec.destructive ?? false,
          idempotentHint: spec.idempotent ?? false,
          openWorldHint: name === "run" || name === "create" || name === "heal",
        },
      },
      (input: unknown) => callTool(spec, name, { client, commands }, input),
    );
  }
  registerResources(server, client, commands);
  registerPrompts(server);
  return server;
}
