import { assert, assertEquals } from "../../tests/helpers/assert.ts";
import { type ChildExit, SandboxChild, type StopLine } from "./child.ts";
import { DEFAULT_LIMITS, type RunLaunch } from "./permissions.ts";

/**
 * A child running `code` with `deno eval` and no wrapper: what SandboxChild adds (clocks, stop
 * lines, kills, reasons) is the same for it as for a run under bubblewrap.
 */
async function supervise(
  code: string,
  options: { timeoutMs?: number; act?: (child: SandboxChild) => void; shell?: boolean } = {},
): Promise<ChildExit & { told: StopLine[] }> {
  const launch = {
    view: { deno: options.shell ? "/bin/sh" : Deno.execPath() },
    args: options.shell ? ["-c", code] : ["eval", code],
    wrapper: [],
    env: { PATH: Deno.env.get("PATH") ?? "" },
  } as unknown as RunLaunch;
  const child = new SandboxChild({
    launch,
    cwd: Deno.cwd(),
    limits: { ...DEFAULT_LIMITS, timeout_ms: options.timeoutMs ?? 30_000 },
  });
  const told: StopLine[] = [];
  child.watch((reason) => told.push(reason), { folders: [] });
  const drain = async (stream: ReadableStream<Uint8Array>) => {
    for await (const _ of stream) { /* read to the end */ }
  };
  const stdout = drain(child.stdout);
  void stdout.then(() => child.outputClosed());
  options.act?.(child);
  const exit = await child.exit([stdout, drain(child.stderr)]);
  await child.stdin.close().catch(() => {});
  return { ...exit, told };
}

const SLEEP = "await new Promise((r) => setTimeout(r, 20_000))";

Deno.test("a child that exits by itself: no end reason, its own exit code", async () => {
  const exit = await supervise("Deno.exit(3)");
  assertEquals(exit.status.code, 3);
  assertEquals(exit.ended, null);
  assertEquals(exit.stopped, null);
  assertEquals(exit.told, []);
});

Deno.test("the timeout tells the run to stop a grace period ahead, then kills it", async () => {
  const exit = await supervise(SLEEP, { timeoutMs: 1_500 });
  assertEquals(exit.told, ["timeout"]);
  assertEquals(exit.stopped, "timeout");
  assertEquals(exit.ended, { reason: "timeout", detail: "" });
  assertEquals(exit.status.signal, "SIGKILL");
});

Deno.test("a cancel tells the run to stop and kills it after the grace", async () => {
  const exit = await supervise(SLEEP, { act: (child) => child.stop("cancel") });
  assertEquals(exit.told, ["cancel"]);
  assertEquals(exit.ended, { reason: "cancelled", detail: "" });
  assertEquals(exit.status.signal, "SIGKILL");
});

Deno.test("a run that is no longer this worker's is killed at once, without a stop line", async () => {
  const exit = await supervise(SLEEP, { act: (child) => child.stop("lost") });
  assertEquals(exit.told, []);
  assertEquals(exit.ended, { reason: "cancelled", detail: "" });
});

Deno.test("the first end reason is kept", async () => {
  const exit = await supervise(SLEEP, {
    act: (child) => {
      child.end("output_limit");
      child.end("internal", "later");
    },
  });
  assertEquals(exit.ended, { reason: "output_limit", detail: "" });
  assertEquals(exit.status.signal, "SIGKILL");
});

Deno.test("a child that closes its stdout but keeps running is ended", async () => {
  // Deno keeps its own copy of fd 1, so a shell closes it for real.
  const exit = await supervise("exec >&-; exec sleep 20", { shell: true });
  assertEquals(exit.ended, { reason: "channel_closed", detail: "" });
  assert.ok(exit.usage.memory_mb >= 0);
});
