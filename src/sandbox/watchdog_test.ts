import { assert, assertEquals } from "../../tests/helpers/assert.ts";
import { type LimitKind, Watchdog, type WatchdogOptions } from "./watchdog.ts";
import { diskUsage } from "./disk_usage.ts";

const roomy = { memory_mb: 4096, cpu_s: 600, disk_mb: 1024, threads: 1000, files: 100_000 };

async function watch(
  code: string,
  limits: typeof roomy,
  options: Partial<WatchdogOptions> = {},
) {
  const child = new Deno.Command(Deno.execPath(), {
    args: ["eval", code],
    stdout: "null",
    stderr: "null",
  }).spawn();
  const fired: string[] = [];
  const dog = new Watchdog({
    pid: child.pid,
    limits,
    folders: [],
    ...options,
    onExceeded: (kind: LimitKind, detail: string) => {
      fired.push(`${kind}: ${detail}`);
      child.kill("SIGKILL");
    },
  });
  dog.start();
  await child.status;
  await dog.stop();
  return { fired, peak: dog.peak, dog };
}

async function withDir(fn: (dir: string) => Promise<void>) {
  const dir = await Deno.makeTempDir();
  try {
    await fn(dir);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

Deno.test("resident memory beyond the limit is reported once, ArrayBuffers included", async () => {
  const { fired, peak } = await watch(
    "const k = []; for (;;) { k.push(new Uint8Array(8 << 20).fill(1)); await new Promise((r) => setTimeout(r, 5)); }",
    { ...roomy, memory_mb: 150 },
  );
  assertEquals(fired.length, 1);
  assert.ok(fired[0]!.startsWith("memory_limit: resident memory reached"), fired[0]);
  assert.ok(peak.memory_mb > 150);
});

Deno.test("CPU time is measured over all threads", async () => {
  const { fired, dog } = await watch("for (;;) {}", { ...roomy, cpu_s: 1 });
  assert.ok(fired[0]?.startsWith("cpu_limit: CPU time reached"), fired[0]);
  assert.ok(dog.cpuCouldReach(1), "a spinning process could reach its CPU limit");
});

Deno.test("an idle process could not have reached a CPU limit it was far from", async () => {
  const started = performance.now();
  const { dog } = await watch("await new Promise((r) => setTimeout(r, 400));", roomy);
  const exited = performance.now();
  assert.ok(!dog.cpuCouldReach(5, exited));
  // Had every core spun since the start, it could have used this much.
  const cores = navigator.hardwareConcurrency;
  assert.ok(dog.cpuCouldReach(((exited - started) / 1000) * cores * 0.05, exited));
});

Deno.test("extra processes (a run's engine) count in the run's memory", async () => {
  const engine = new Deno.Command(Deno.execPath(), {
    args: [
      "eval",
      "const k = new Uint8Array(200 << 20).fill(1); await new Promise((r) => setTimeout(r, 5000)); k;",
    ],
    stdout: "null",
    stderr: "null",
  }).spawn();
  try {
    const { fired } = await watch("await new Promise((r) => setTimeout(r, 5000));", {
      ...roomy,
      memory_mb: 150,
    }, { extraPids: () => [engine.pid] });
    assert.ok(fired[0]?.startsWith("memory_limit"), fired[0]);
  } finally {
    engine.kill("SIGKILL");
    await engine.status;
  }
});

Deno.test("bytes in the watched folders count against the disk limit", async () => {
  await withDir(async (dir) => {
    const { fired, peak } = await watch(
      `for (let i = 0;; i++) { Deno.writeFileSync("${dir}/f" + (i % 50), new Uint8Array(1 << 20), { append: true }); await new Promise((r) => setTimeout(r, 2)); }`,
      { ...roomy, disk_mb: 8 },
      { folders: [dir] },
    );
    assert.ok(fired[0]?.startsWith("disk_limit: disk use of its folders reached"), fired[0]);
    assert.ok(peak.disk_mb >= 8, JSON.stringify(peak));
  });
});

Deno.test("what a folder held at the start is not counted", async () => {
  await withDir(async (dir) => {
    await Deno.writeFile(`${dir}/cache`, new Uint8Array(6 << 20));
    const baseline = await diskUsage([dir], Infinity);
    const { fired, peak } = await watch(
      `Deno.writeFileSync("${dir}/new", new Uint8Array(1 << 20)); await new Promise((r) => setTimeout(r, 400));`,
      { ...roomy, disk_mb: 4 },
      { folders: [dir], baseline },
    );
    assertEquals(fired, []);
    assert.ok(peak.disk_mb >= 1 && peak.disk_mb < 2, JSON.stringify(peak));
  });
});

Deno.test("too many files end the run with disk_limit, whatever their size", async () => {
  await withDir(async (dir) => {
    const { fired, peak } = await watch(
      `for (let i = 0;; i++) { Deno.writeFileSync("${dir}/f" + i, new Uint8Array(0)); if (i % 100 === 0) await new Promise((r) => setTimeout(r, 1)); }`,
      { ...roomy, files: 500 },
      { folders: [dir] },
    );
    assert.ok(fired[0]?.startsWith("disk_limit: files in its folders reached"), fired[0]);
    assert.ok(peak.files > 500);
  });
});

Deno.test("the audit log is its own limit, named as such", async () => {
  await withDir(async (dir) => {
    const audit = `${dir}/audit.jsonl`;
    const { fired } = await watch(
      `for (;;) { Deno.writeFileSync("${audit}", new Uint8Array(1 << 20), { append: true }); await new Promise((r) => setTimeout(r, 2)); }`,
      { ...roomy, disk_mb: 4 },
      { auditFile: audit },
    );
    assert.ok(fired[0]?.startsWith("audit_limit: permission audit log reached"), fired[0]);
  });
});

Deno.test("a run that sits on many files costs no walks while it writes nothing", async () => {
  await withDir(async (dir) => {
    for (let i = 0; i < 2_000; i++) Deno.writeFileSync(`${dir}/f${i}`, new Uint8Array(0));
    const walks: number[] = [];
    const child = new Deno.Command(Deno.execPath(), {
      args: ["eval", "await new Promise((r) => setTimeout(r, 3000));"],
      stdout: "null",
      stderr: "null",
    }).spawn();
    const dog = new Watchdog({
      pid: child.pid,
      limits: roomy,
      folders: [dir],
      onExceeded: () => {},
      onWalk: (usage) => walks.push(usage.walkMs),
    });
    dog.start();
    await child.status;
    await dog.stop();
    // The first sample walks; the quiet process moves no counter, so the rest do not.
    // (and stop() takes a last reading).
    assert.ok(walks.length <= 4, `${walks.length} walks of 2,000 files in 3 s`);
    assertEquals(dog.peak.files, 2_001);
  });
});

Deno.test("a quiet process passes nothing and its peak usage is recorded", async () => {
  const { fired, peak } = await watch("await new Promise((r) => setTimeout(r, 600));", roomy);
  assertEquals(fired, []);
  assert.ok(peak.memory_mb > 5 && peak.threads >= 2, JSON.stringify(peak));
});
