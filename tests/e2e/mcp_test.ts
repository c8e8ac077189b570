/**
 * The MCP server through the reference SDK's own Client: `tau mcp` over stdio and the daemon's
 * `/mcp` over streamable HTTP. The whole loop as tools, scopes that hide and refuse, bounded
 * and paged results, and errors as `isError` documents.
 */
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StdioClientTransport } from "@modelcontextprotocol/sdk/client/stdio.js";
import { StreamableHTTPClientTransport } from "@modelcontextprotocol/sdk/client/streamableHttp.js";
import { assert, assertEquals } from "../helpers/assert.ts";
import { cleanEnv, startDaemon, TAU, type TestDaemon } from "../helpers/daemon.ts";
import { COMMANDS } from "../../src/cli/commands.ts";

/** The tools the issue names, each after a CLI command. */
const ALL_TOOLS = [
  "status",
  "list",
  "show",
  "code",
  "check",
  "deploy",
  "undeploy",
  "run",
  "runs",
  "inspect",
  "logs",
  "errors",
  "cancel",
  "schedule",
  "dag",
  "depends",
  "connections",
  "versions",
  "diff",
  "rollback",
  "heal",
  "heals",
  "lineage",
  "backfill",
  "backfills",
  "create",
  "workers",
].sort(); // deno-fmt-ignore
const READ_TOOLS = [
  "status", "list", "show", "code", "runs", "inspect", "logs", "errors", "dag", "depends",
  "connections", "versions", "diff", "heal", "heals", "workers", "lineage", "backfills",
].sort(); // deno-fmt-ignore

const FAILING = `import { pipeline } from "tau";

export default pipeline({ name: "mcp_orders" }, async (ctx) => {
  ctx.log("loading orders");
  return await ctx.step("load", () => {
    throw new Error("orders table is empty");
  });
});
`;
const FIXED = FAILING.replace(`throw new Error("orders table is empty");`, "return { rows: 3 };");
const CHATTY = `import { pipeline } from "tau";

export default pipeline({ name: "mcp_chatty" }, (ctx) => {
  for (let i = 0; i < 20000; i++) ctx.log(\`line \${i} \${"x".repeat(40)}\`);
  return { lines: 20000 };
});
`;

// deno-lint-ignore no-explicit-any
type Result = { isError?: boolean; structuredContent?: any; content: any[] };
/** What the tests read of a listed tool (the SDK's own types do not resolve under Deno). */
interface Tool {
  name: string;
  outputSchema?: unknown;
  inputSchema: { properties?: Record<string, unknown> };
  annotations?: { readOnlyHint?: boolean; destructiveHint?: boolean; idempotentHint?: boolean };
}

async function listTools(client: Client): Promise<Tool[]> {
  return (await client.listTools()).tools as Tool[];
}

async function call(client: Client, name: string, args: Record<string, unknown> = {}) {
  const result = await client.callTool({ name, arguments: args }) as Result;
  const text = result.content.find((c) => c.type === "text")?.text ?? "";
  // deno-lint-ignore no-explicit-any
  let json: any;
  try {
    json = JSON.parse(text);
  } catch {
    json = { text }; // the SDK's own refusals (unknown tool, invalid input) are plain text
  }
  return {
    ...result,
    json,
    bytes: new TextEncoder().encode(JSON.stringify(result)).length,
  };
}

function stdioClient(d: TestDaemon) {
  return new StdioClientTransport({
    command: Deno.execPath(),
    args: ["run", "-A", TAU, "mcp"],
    env: cleanEnv({ TAU_HOME: d.home, NO_COLOR: "1" }),
    stderr: "pipe",
  });
}

function httpClient(d: TestDaemon, key: string | null, query = "") {
  return new StreamableHTTPClientTransport(new URL(`http://127.0.0.1:${d.port}/mcp${query}`), {
    requestInit: key ? { headers: { authorization: `Bearer ${key}` } } : {},
  });
}

async function connected(transport: StdioClientTransport | StreamableHTTPClientTransport) {
  const client = new Client({ name: "tau-test", version: "1.0.0" });
  await client.connect(transport);
  return client;
}

Deno.test("mcp over stdio: the tool list is the command table; the loop end to end", async (t) => {
  const daemon = await startDaemon();
  const client = await connected(stdioClient(daemon));
  try {
    await t.step("every tool is a CLI command, with the right hints", async () => {
      const tools = await listTools(client);
      assertEquals(tools.map((tool) => tool.name).sort(), ALL_TOOLS);
      for (const tool of tools) {
        assert.ok(tool.name in COMMANDS, `${tool.name} is a CLI command`);
        assert.ok(tool.outputSchema, `${tool.name} has an output schema`);
        const readOnly = tool.annotations?.readOnlyHint === true;
        // For an admin key, heal, depends, connections and backfills take inputs that change
        // things.
        const reads = [...READ_TOOLS, "check"].filter((n) =>
          !["heal", "depends", "connections", "backfills"].includes(n)
        );
        assertEquals(readOnly, reads.includes(tool.name), tool.name);
      }
      const hint = (name: string) => tools.find((tool) => tool.name === name)!.annotations;
      assertEquals(hint("undeploy")?.destructiveHint, true);
      assertEquals(hint("rollback")?.destructiveHint, true);
      assertEquals(hint("deploy")?.destructiveHint, false);
      assertEquals(hint("deploy")?.idempotentHint, true);
      assertEquals(hint("run")?.idempotentHint, false);
    });

    await t.step("check, deploy, run, inspect, logs, heal", async () => {
      const checked = await call(client, "check", { code: FAILING });
      assertEquals(checked.isError, undefined, JSON.stringify(checked.json));
      assertEquals([checked.json.ok, checked.json.deploy], [true, "new_pipeline"]);
      assertEquals(checked.structuredContent, checked.json);

      const deployed = await call(client, "deploy", { code: FAILING });
      assertEquals(deployed.json.deployed, "mcp_orders", JSON.stringify(deployed.json));
      assertEquals(deployed.json.version, 1);

      const run = await call(client, "run", { name: "mcp_orders" });
      assertEquals(run.isError, undefined, "a failed run is a document, not a tool error");
      assertEquals(run.json.status, "failed");

      const inspected = await call(client, "inspect", { name: "mcp_orders", brief: true });
      assertEquals([inspected.json.selected, inspected.json.run_id], ["last_run", run.json.run_id]);
      assert.ok(inspected.json.error.message.includes("orders table is empty"));

      const logs = await call(client, "logs", { name: "mcp_orders" });
      assert.ok(logs.json.logs.some((l: { message: string }) => l.message === "loading orders"));
      assertEquals(logs.json.truncated, false);

      const healed = await call(client, "heal", { name: "mcp_orders" });
      assertEquals(healed.json.run_id, run.json.run_id);
      assertEquals(healed.json.diagnosis.class, "code_bug");
      assert.ok(healed.json.diagnosis.evidence.length > 0);

      const redeployed = await call(client, "deploy", { code: FIXED });
      assertEquals(redeployed.json.version, 2);
      assertEquals((await call(client, "run", { name: "mcp_orders" })).json.status, "success");
      const versions = await call(client, "versions", { name: "mcp_orders" });
      assertEquals(versions.json.current_version, 2);
      const diff = await call(client, "diff", { name: "mcp_orders", from: 1 });
      assert.ok(diff.json.diff.includes("+    return { rows: 3 };"), diff.json.diff);
    });

    await t.step("errors are isError documents with code and hint", async () => {
      const missing = await call(client, "show", { name: "nope" });
      assertEquals(missing.isError, true);
      assertEquals(missing.json.error.code, "not_found");
      assert.ok(missing.json.error.hint, "a hint");
      assertEquals(missing.structuredContent, undefined);

      const bad = await call(client, "check", { code: "export default 1;\n" });
      assertEquals(bad.isError, true);
      assert.ok(typeof bad.json.error.code === "string" && bad.json.error.hint, bad.json);
    });

    await t.step("resources: the guide, code per version, a run", async () => {
      const guide = await client.readResource({ uri: "tau://guide" });
      assert.ok(String(guide.contents[0]!.text).includes("tau deploy"));
      const { resources } = await client.listResources();
      assert.ok(
        resources.some((r: { uri: string }) => r.uri === "tau://pipelines/mcp_orders/code"),
      );
      const v1 = await client.readResource({ uri: "tau://pipelines/mcp_orders/versions/1/code" });
      assertEquals(v1.contents[0]!.text, FAILING);
      const now = await client.readResource({ uri: "tau://pipelines/mcp_orders/code" });
      assertEquals(now.contents[0]!.text, FIXED);
      const runs = await call(client, "runs", { name: "mcp_orders" });
      const id = runs.json.runs[0].run_id;
      const record = await client.readResource({ uri: `tau://runs/${id}` });
      assertEquals(JSON.parse(String(record.contents[0]!.text)).status, "success");
    });

    await t.step("prompts walk through check, deploy, run, inspect", async () => {
      const { prompts } = await client.listPrompts();
      assertEquals(prompts.map((p: { name: string }) => p.name).sort(), [
        "heal_pipeline",
        "write_pipeline",
      ]);
      const heal = await client.getPrompt({ name: "heal_pipeline", arguments: { name: "x" } });
      const text = String((heal.messages[0]!.content as { text: string }).text);
      for (const step of ["heal", "check", "deploy", "run"]) assert.ok(text.includes(step), step);
    });
  } finally {
    await client.close();
    await daemon.stop();
  }
});

Deno.test("mcp over HTTP: keys and scopes, bounded and paged logs", async (t) => {
  const daemon = await startDaemon();
  const admin = (await Deno.readTextFile(`${daemon.home}/api_key`)).trim();
  try {
    await t.step("no key, or a key in the URL: refused", async () => {
      await assert.rejects(connected(httpClient(daemon, null)), /401|Missing API key/);
      await assert.rejects(
        connected(httpClient(daemon, null, `?api_key=${admin}`)),
        /400|not accepted in the URL/,
      );
    });

    await t.step("a read key lists and calls only read tools", async () => {
      const created = await daemon.tau("keys", "create", "--scope", "read", "--name", "agent");
      const client = await connected(httpClient(daemon, created.json.key));
      try {
        const tools = await listTools(client);
        assertEquals(tools.map((tool) => tool.name).sort(), READ_TOOLS);
        assert.ok(tools.every((tool) => tool.annotations?.readOnlyHint === true));
        const heal = tools.find((tool) => tool.name === "heal")!;
        assertEquals(Object.keys(heal.inputSchema.properties ?? {}).sort(), ["name", "run_id"]);

        const deploy = await call(client, "deploy", { code: FAILING });
        assertEquals(deploy.isError, true, "no deploy tool for a read key");
        assert.ok(deploy.json.text.includes("deploy not found"), deploy.json.text);
        const auto = await call(client, "heal", { name: "x", auto: true });
        assertEquals(auto.isError, true, "an input beyond the scope is refused");
        assert.ok(auto.json.text.includes("auto"), auto.json.text);
        // The API refuses what the tool list hides: a read key's deploy, asked directly.
        const api = await fetch(`http://127.0.0.1:${daemon.port}/api/v1/pipelines`, {
          method: "POST",
          headers: { authorization: `Bearer ${created.json.key}` },
          body: JSON.stringify({ code: FAILING, filename: "x.ts" }),
        });
        assertEquals(api.status, 403);
        await api.body?.cancel();
        assertEquals((await call(client, "list")).json.count, 0);
      } finally {
        await client.close();
      }
    });

    await t.step("an operate key runs but cannot deploy", async () => {
      const created = await daemon.tau("keys", "create", "--scope", "operate");
      const client = await connected(httpClient(daemon, created.json.key));
      try {
        const names = (await listTools(client)).map((tool) => tool.name);
        assert.ok(names.includes("run") && names.includes("rollback"), names.join());
        assert.ok(!names.includes("deploy") && !names.includes("check"), names.join());
      } finally {
        await client.close();
      }
    });

    await t.step("the loop over HTTP: deploy, run, inspect, logs, heal", async () => {
      const client = await connected(httpClient(daemon, admin));
      try {
        assertEquals((await call(client, "deploy", { code: FAILING })).json.version, 1);
        const run = await call(client, "run", { name: "mcp_orders" });
        assertEquals(run.json.status, "failed");
        const inspected = await call(client, "inspect", {
          name: "mcp_orders",
          run_id: run.json.run_id,
        });
        assertEquals([inspected.json.selected, inspected.json.status], ["run_id", "failed"]);
        const logs = await call(client, "logs", { name: "mcp_orders", run_id: run.json.run_id });
        assertEquals(logs.json.logs[0].message, "loading orders");
        const healed = await call(client, "heal", { name: "mcp_orders", run_id: run.json.run_id });
        assertEquals(healed.json.diagnosis.class, "code_bug");
        const status = await call(client, "status");
        assertEquals(status.json.url, `http://127.0.0.1:${daemon.port}`);
      } finally {
        await client.close();
      }
    });

    await t.step("20,000 log lines come in bounded pages", async () => {
      const client = await connected(httpClient(daemon, admin));
      try {
        assertEquals((await call(client, "deploy", { code: CHATTY })).json.version, 1);
        const run = await call(client, "run", { name: "mcp_chatty" });
        assertEquals(run.json.status, "success", JSON.stringify(run.json.error));
        assert.ok(run.bytes < 100_000, `the run record is bounded (${run.bytes} bytes)`);

        let after: number | undefined;
        let seen = 0;
        let pages = 0;
        for (;;) {
          const page = await call(client, "logs", {
            name: "mcp_chatty",
            limit: 1000,
            ...(after !== undefined ? { after } : {}),
          });
          assertEquals(page.isError, undefined, JSON.stringify(page.json));
          assert.ok(page.bytes < 100_000, `page ${pages} is ${page.bytes} bytes`);
          const first = page.json.logs[0]?.message as string | undefined;
          if (first?.startsWith("line ")) assertEquals(first.split(" ")[1], String(seen));
          seen += page.json.logs.filter((l: { message: string }) => l.message.startsWith("line "))
            .length;
          pages++;
          if (!page.json.truncated) break;
          assert.ok(page.json.next.includes("after"), page.json.next);
          after = page.json.next_after;
        }
        assertEquals(seen, 20000);
        assert.ok(pages >= 20, `${pages} pages`);

        const runs = await call(client, "runs", { name: "mcp_chatty", limit: 1 });
        assertEquals([runs.json.count, runs.json.truncated], [1, false]);
      } finally {
        await client.close();
      }
    });
  } finally {
    await daemon.stop();
  }
});
