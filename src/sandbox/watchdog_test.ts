import { assert, assertEquals } from "../../tests/helpers/assert.ts";
import { Watchdog } from "./watchdog.ts";

const roomy = { memory_mb: 4096, cpu_s: 600, disk_mb: 1024, threads: 1000 };

async function watch(code: string, limits: typeof roomy, diskPaths: string[] = []) {
  const child = new Deno.Command(Deno.execPath(), {
    args: ["eval", code],
    stdout: "null",
    stderr: "null",
  }).spawn();
  const fired: string[] = [];
  const dog = new Watchdog(child.pid, limits, diskPaths, (kind, detail) => {
    fired.push(`${kind}: ${detail}`);
    child.kill("SIGKILL");
  });
  dog.start();
  await child.status;
  await dog.stop();
  return { fired, peak: dog.peak };
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
  const { fired } = await watch("for (;;) {}", { ...roomy, cpu_s: 1 });
  assert.ok(fired[0]?.startsWith("cpu_limit: CPU time reached"), fired[0]);
});

Deno.test("bytes in the watched folder count against the disk limit", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const { fired, peak } = await watch(
      `for (let i = 0;; i++) { Deno.writeFileSync("${dir}/f" + (i % 50), new Uint8Array(1 << 20), { append: true }); await new Promise((r) => setTimeout(r, 2)); }`,
      { ...roomy, disk_mb: 8 },
      [dir],
    );
    assert.ok(fired[0]?.startsWith("disk_limit: scratch disk use reached"), fired[0]);
    assert.ok(peak.disk_mb > 8);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("a quiet process passes nothing and its peak usage is recorded", async () => {
  const { fired, peak } = await watch("await new Promise((r) => setTimeout(r, 600));", roomy);
  assertEquals(fired, []);
  assert.ok(peak.memory_mb > 5 && peak.threads >= 2, JSON.stringify(peak));
});
