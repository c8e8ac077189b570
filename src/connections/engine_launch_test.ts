import { assert, assertEquals } from "../../tests/helpers/assert.ts";
import { engineLaunch, type EngineLaunchInput, engineSettings } from "./engine_launch.ts";
import { NO_OS_BOUNDARY, type OsBoundary } from "../sandbox/os_boundary.ts";

const BWRAP: OsBoundary = {
  mechanism: "bubblewrap",
  reason: null,
  bwrap: "/usr/bin/bwrap",
  prlimit: "/usr/bin/prlimit",
  systemMounts: [["--ro-bind", "/usr/bin/deno", "/usr/bin/deno"]],
};

const input: EngineLaunchInput = {
  install: {
    entry: "/opt/tau/src/connections/engine_main.ts",
    importMap: "/tmp/e/import_map.json",
    lockFile: "/tmp/e/engine.lock",
    readOnly: ["/opt/tau/src/connections/engine_main.ts", "/cache/npm/@duckdb/node-api/1.0"],
  },
  boundary: BWRAP,
  limits: { memory_mb: 512, cpu_s: 30, threads: 64, timeout_ms: 60_000 },
  denoDir: "/tmp/tau_engine_1",
  scratchDir: "/home/tau/runs/r1/scratch",
  scratchView: "/tau/scratch",
  databases: [
    { path: "/data/lake/raw", writable: false },
    { path: "/data/lake", writable: true },
  ],
  network: false,
};

/** The `(flag, from, to)` mount triples of a bwrap command line, in order. */
function mounts(args: string[]): string[][] {
  const out: string[][] = [];
  args.forEach((arg, i) => {
    if (/^--(ro-)?bind(-try)?$/.test(arg)) out.push(args.slice(i, i + 3));
  });
  return out;
}

Deno.test("engine settings: half the run's memory, one thread per 128 MiB of it, at most 2", () => {
  assertEquals(engineSettings({ memory_mb: 64 }), { memoryLimitMb: 32, threads: 1 });
  assertEquals(engineSettings({ memory_mb: 256 }), { memoryLimitMb: 128, threads: 1 });
  assertEquals(engineSettings({ memory_mb: 512 }), { memoryLimitMb: 256, threads: 2 });
  assertEquals(engineSettings({ memory_mb: 16384 }), { memoryLimitMb: 8192, threads: 2 });
});

Deno.test("engine launch: prlimit without a file-size limit, then bubblewrap, then deno", () => {
  const launch = engineLaunch(input);
  assertEquals(launch.command, "/usr/bin/prlimit");
  const data = (512 + 1024) * 1024 * 1024;
  assertEquals(launch.args.slice(0, 4), [
    "--cpu=30:31",
    `--data=${data}:${data}`,
    "--",
    "/usr/bin/bwrap",
  ]);
  assert(!launch.args.some((a) => a.startsWith("--fsize")));
  assert(launch.args.includes("--unshare-net") && launch.args.includes("--die-with-parent"));
  const deno = launch.args.lastIndexOf("--") + 1; // after bubblewrap's own arguments
  assertEquals(launch.args.slice(deno, deno + 2), [Deno.execPath(), "run"]);
  assert(launch.args.includes("--allow-ffi"));
  assert(!launch.args.some((a) => /^--allow-(all|read|write|net|run|env)/.test(a) || a === "-A"));
  assertEquals(launch.env.HOME, "/tau/scratch");
  assertEquals(launch.env.DENO_DIR, "/tmp/tau_engine_1");
  assertEquals(launch.cwd, input.scratchDir);
  assertEquals(launch.args[launch.args.indexOf("--chdir") + 1], "/tau/scratch");
});

Deno.test("engine launch: databases first (parents first), own files read-only, scratch at its view", () => {
  assertEquals(mounts(engineLaunch(input).args).slice(1), [
    ["--bind-try", "/data/lake", "/data/lake"],
    ["--ro-bind-try", "/data/lake/raw", "/data/lake/raw"],
    ["--ro-bind", Deno.execPath(), Deno.execPath()],
    [
      "--ro-bind",
      "/opt/tau/src/connections/engine_main.ts",
      "/opt/tau/src/connections/engine_main.ts",
    ],
    ["--ro-bind", "/cache/npm/@duckdb/node-api/1.0", "/cache/npm/@duckdb/node-api/1.0"],
    ["--bind", "/tmp/tau_engine_1", "/tmp/tau_engine_1"],
    ["--bind", "/home/tau/runs/r1/scratch", "/tau/scratch"],
  ]);
  const online = engineLaunch({ ...input, network: true }).args;
  assert(!online.includes("--unshare-net"));
});

Deno.test("engine launch: without bubblewrap, deno directly in the host scratch folder", () => {
  const launch = engineLaunch({ ...input, boundary: NO_OS_BOUNDARY });
  assertEquals(launch.command, Deno.execPath());
  assertEquals(launch.args[0], "run");
  assertEquals(launch.env.HOME, input.scratchDir);
  const prlimitOnly = engineLaunch({ ...input, boundary: { ...NO_OS_BOUNDARY, prlimit: "/p" } });
  assertEquals(prlimitOnly.command, "/p");
  assertEquals(prlimitOnly.args[3], Deno.execPath());
});
