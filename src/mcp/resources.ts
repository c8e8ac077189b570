/**
 * MCP resources: the guide (`tau://guide`), a pipeline's code, current or of one version
 * (`tau://pipelines/{name}/code`, `tau://pipelines/{name}/versions/{version}/code`), and a run's
 * record (`tau://runs/{id}`). Read through the same client as the tools, so with the same key.
 */
import { type McpServer, ResourceTemplate } from "@modelcontextprotocol/sdk/server/mcp.js";
import { ErrorCode, McpError } from "@modelcontextprotocol/sdk/types.js";
import type { Variables } from "@modelcontextprotocol/sdk/shared/uriTemplate.js";
import type { Client } from "../cli/client.ts";
import type { CommandSpec } from "../cli/spec.ts";
import { agentGuide } from "../guide/guide.ts";
import { bounded } from "./bounds.ts";
import { errorDocument } from "./errors.ts";

const enc = encodeURIComponent;
const one = (value: string | string[] | undefined) => Array.isArray(value) ? value[0]! : value!;

/** A failed read as a JSON-RPC error carrying the API's error document. */
async function reading<T>(fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (err) {
    const doc = errorDocument(err);
    throw new McpError(ErrorCode.InvalidParams, JSON.stringify(doc), doc);
  }
}

export function registerResources(
  server: McpServer,
  client: Client,
  commands: Record<string, CommandSpec>,
): void {
  server.registerResource(
    "guide",
    "tau://guide",
    {
      title: "The Tau guide for agents",
      description: "The loop, the pipeline file and ctx API, the sandbox, every command, every " +
        "error and what to do about it",
      mimeType: "text/markdown",
    },
    async (uri: URL) => ({
      contents: [{ uri: uri.href, mimeType: "text/markdown", text: await agentGuide(commands) }],
    }),
  );

  const code = async (uri: URL, name: string, version?: string) => {
    const path = `/pipelines/${enc(name)}/code${version ? `?version=${enc(version)}` : ""}`;
    const doc = await reading(() => client.request("GET", path)) as { code: string };
    return { contents: [{ uri: uri.href, mimeType: "text/typescript", text: doc.code }] };
  };
  server.registerResource(
    "pipeline-code",
    new ResourceTemplate("tau://pipelines/{name}/code", {
      list: async () => {
        const { pipelines } = await reading(() => client.request("GET", "/pipelines")) as {
          pipelines: { name: string; description?: string | null }[];
        };
        return {
          resources: pipelines.map((p) => ({
            uri: `tau://pipelines/${enc(p.name)}/code`,
            name: `${p.name}.ts`,
            mimeType: "text/typescript",
            ...(p.description ? { description: p.description } : {}),
          })),
        };
      },
    }),
    { title: "A pipeline's current code", mimeType: "text/typescript" },
    (uri: URL, vars: Variables) => code(uri, decodeURIComponent(one(vars.name))),
  );
  server.registerResource(
    "pipeline-version-code",
    new ResourceTemplate("tau://pipelines/{name}/versions/{version}/code", { list: undefined }),
    { title: "The code of one version of a pipeline", mimeType: "text/typescript" },
    (uri: URL, vars: Variables) => code(uri, decodeURIComponent(one(vars.name)), one(vars.version)),
  );
  server.registerResource(
    "run",
    new ResourceTemplate("tau://runs/{id}", { list: undefined }),
    { title: "A run's record (as tau inspect)", mimeType: "application/json" },
    async (uri: URL, vars: Variables) => {
      const run = await reading(async () =>
        bounded(
          await client.request("GET", `/runs/${enc(decodeURIComponent(one(vars.id)))}`) as Record<
            string,
            unknown
          >,
          "read the run's logs with the logs tool",
        )
      );
      return {
        contents: [{ uri: uri.href, mimeType: "application/json", text: JSON.stringify(run) }],
      };
    },
  );
}
