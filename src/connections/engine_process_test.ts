import { assert, assertEquals } from "../../tests/helpers/assert.ts";
import { EngineProcess } from "./engine_process.ts";

/**
 * An "engine" that answers the first request line with what the JavaScript expression `output`
 * evaluates to (text or bytes), then ignores everything until it is killed.
 */
function fakeEngine(output: string): EngineProcess {
  const script = `
    const reader = Deno.stdin.readable.getReader();
    await reader.read();
    const output = ${output};
    await Deno.stdout.write(typeof output === "string" ? new TextEncoder().encode(output) : output);
    setTimeout(() => {}, 60_000);
  `;
  return new EngineProcess(
    { command: Deno.execPath(), args: ["eval", script], env: {}, cwd: Deno.cwd() },
    60_000,
  );
}

const ask = (engine: EngineProcess) => engine.request("duckdb.query", 1, { sql: "SELECT 1" });

Deno.test("engine process: a well-formed reply passes through as text", async () => {
  const engine = fakeEngine(`'{"id":1,"ok":true,"value":[{"x":1}]}\\n'`);
  assertEquals(await ask(engine), '[{"x":1}]');
  await engine.stop(new Error("The run ended"), 200);
  assert(!engine.running);
});

Deno.test("engine process: an error reply rejects with the engine's message", async () => {
  const engine = fakeEngine(`'{"id":1,"ok":false,"error":"Catalog Error: no table"}\\n'`);
  await assert.rejects(() => ask(engine), /^Error: Catalog Error: no table$/);
  await engine.stop(new Error("The run ended"), 200);
});

for (
  const [what, output, message] of [
    ["text that is no reply", `"hello\\n"`, /malformed reply$/],
    ["a value that is not JSON", `'{"id":1,"ok":true,"value":[1,}\\n'`, /malformed reply$/],
    ["a reply to no request", `'{"id":7,"ok":true,"value":1}\\n'`, /malformed reply$/],
    ["a line over the cap", `"x".repeat(17 * 1024 * 1024)`, /a line is over \d+ bytes/],
    ["bytes that are not UTF-8", "new Uint8Array([0xff, 0xfe, 10])", /not valid UTF-8/],
  ] as const
) {
  Deno.test(`engine process: ${what} is an engine failure, and the engine is killed`, async () => {
    const engine = fakeEngine(output);
    await assert.rejects(() => ask(engine), message);
    await engine.exited;
    assert(!engine.running);
    await assert.rejects(() => ask(engine), message, "later requests fail the same way");
  });
}

Deno.test("engine process: stop() rejects pending requests and ends a silent engine", async () => {
  const engine = fakeEngine("");
  const pending = ask(engine);
  pending.catch(() => {});
  const started = performance.now();
  await engine.stop(new Error("The run ended"), 300);
  await assert.rejects(() => pending, /The run ended/);
  assert(performance.now() - started < 2_000);
  assert(!engine.running);
});
