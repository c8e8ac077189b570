import { assert, assertEquals } from "../../tests/helpers/assert.ts";
import {
  buildRunLaunch,
  DEFAULT_LIMITS,
  DRIVER_ENV_PROBES,
  type SandboxOptions,
} from "./permissions.ts";

const options: SandboxOptions = {
  scratchDir: "/home/t/.tau/runs/r1-1/scratch",
  denoDir: "/home/t/.tau/runs/r1-1/deno",
  importMap: "/home/t/.tau/import_map.json",
  lockFile: "/home/t/.cache/tau/sandbox/abc/drivers.lock",
  entry: "/home/t/.tau/code/p/v1/entry.ts",
  daemonPorts: [8400],
};

const FORBIDDEN =
  /^(-A|--allow-all|--allow-run|--allow-sys|--allow-ffi|--allow-import|-P|--inspect|--allow-hrtime)/;

Deno.test("a pipeline that declares nothing gets no network and no environment", () => {
  const { args, permissions, env } = buildRunLaunch({ net: [], secrets: [] }, options);
  assert.ok(!args.some((a) => a.startsWith("--allow-net")));
  // Only the drivers' probes, which are never set in the child's environment.
  assertEquals(args.filter((a) => a.startsWith("--allow-env")), [
    `--allow-env=${DRIVER_ENV_PROBES.join(",")}`,
  ]);
  assertEquals(permissions.net, []);
  assertEquals(permissions.env, []);
  assertEquals(permissions.env_unset, DRIVER_ENV_PROBES);
  assertEquals(permissions.read, [options.scratchDir]);
  assertEquals(permissions.write, [options.scratchDir]);
  assertEquals(Object.keys(env).sort(), [
    "DENO_DIR",
    "DENO_NO_PACKAGE_JSON",
    "DENO_NO_UPDATE_CHECK",
    "HOME",
    "NO_COLOR",
    "TMPDIR",
  ]);
  assertEquals(env.DENO_DIR, options.denoDir);
  assertEquals(env.HOME, options.scratchDir);
});

Deno.test("the exact flags: hardening flags, scratch-only files, the entry last", () => {
  const { args } = buildRunLaunch({ net: ["api.example.com"], secrets: ["API_KEY"] }, options);
  assertEquals(args, [
    "run",
    "--no-prompt",
    "--no-config",
    "--lock=/home/t/.cache/tau/sandbox/abc/drivers.lock",
    "--frozen",
    "--no-check",
    "--no-remote",
    "--cached-only",
    "--import-map=/home/t/.tau/import_map.json",
    "--allow-read=/home/t/.tau/runs/r1-1/scratch",
    "--allow-write=/home/t/.tau/runs/r1-1/scratch",
    "--allow-net=api.example.com:443",
    "--deny-net=127.0.0.0/8:8400,localhost:8400,0.0.0.0:8400,[::1]:8400,[::]:8400,169.254.0.0/16,[fd00:ec2::254],metadata.google.internal,metadata",
    `--allow-env=API_KEY,${DRIVER_ENV_PROBES.join(",")}`,
    "--v8-flags=--max-old-space-size=512",
    "/home/t/.tau/code/p/v1/entry.ts",
  ]);
  assert.ok(!args.some((a) => FORBIDDEN.test(a)));
});

Deno.test("net is declared hosts plus connection hosts, deduplicated and sorted", () => {
  const { permissions } = buildRunLaunch(
    {
      net: ["b.example:443", "a.example"],
      secrets: [],
      connectionHosts: ["db.internal:5432", "a.example"],
    },
    options,
  );
  assertEquals(permissions.net, ["a.example:443", "b.example:443", "db.internal:5432"]);
});

Deno.test("the daemon's ports and cloud metadata are always denied", () => {
  const { permissions } = buildRunLaunch({ net: ["localhost"], secrets: [] }, {
    ...options,
    daemonPorts: [9123, 9124],
  });
  for (
    const host of [
      "127.0.0.0/8:9123",
      "localhost:9123",
      "[::1]:9123",
      "0.0.0.0:9123",
      // The dashboard's port, like the API's.
      "127.0.0.0/8:9124",
      "localhost:9124",
      "[::1]:9124",
      "0.0.0.0:9124",
      "169.254.0.0/16",
    ]
  ) {
    assert.ok(permissions.deny_net.includes(host), host);
  }
});

Deno.test("only declared secrets reach the child's environment, with their values", () => {
  const { env } = buildRunLaunch(
    { net: [], secrets: ["A_KEY", "MISSING"] },
    options,
    { A_KEY: "value-a", NOT_DECLARED: "value-x" },
  );
  assertEquals(env.A_KEY, "value-a");
  assert.ok(!("MISSING" in env));
  assert.ok(!("NOT_DECLARED" in env));
});

Deno.test("the function is pure: same input, same output", () => {
  const input = { net: ["x.example"], secrets: ["S"] };
  assertEquals(buildRunLaunch(input, options), buildRunLaunch(input, options));
});

Deno.test("the limits set the heap flag and are shown with the permissions", () => {
  const limits = { ...DEFAULT_LIMITS, heap_mb: 64 };
  const { args, permissions } = buildRunLaunch({ net: [], secrets: [] }, { ...options, limits });
  assert.ok(args.includes("--v8-flags=--max-old-space-size=64"));
  assertEquals(permissions.limits, limits);
});

Deno.test("a host without a port is granted on 443 only; the daemon's port is denied everywhere", () => {
  const { permissions } = buildRunLaunch(
    { net: ["api.example.com", "db.internal:5432", "[2001:db8::1]"], secrets: [] },
    { ...options, daemonAddresses: ["10.0.0.7", "127.0.0.1", "::1", "fe80::0:1"] },
  );
  assertEquals(permissions.net, ["[2001:db8::1]:443", "api.example.com:443", "db.internal:5432"]);
  assertEquals(permissions.deny_net, [
    "127.0.0.0/8:8400",
    "localhost:8400",
    "0.0.0.0:8400",
    "[::1]:8400",
    "[::]:8400",
    "10.0.0.7:8400",
    "[fe80::1]:8400",
    "169.254.0.0/16",
    "[fd00:ec2::254]",
    "metadata.google.internal",
    "metadata",
  ]);
});

Deno.test("without an OS boundary deno starts directly; with one, under prlimit and bwrap", () => {
  assertEquals(buildRunLaunch({ net: [], secrets: [] }, options).wrapper, []);
  const os = {
    mechanism: "bubblewrap" as const,
    reason: null,
    bwrap: "/usr/bin/bwrap",
    prlimit: "/usr/bin/prlimit",
    systemMounts: [["--ro-bind", "/usr/bin/deno", "/usr/bin/deno"]],
  };
  const limits = { ...DEFAULT_LIMITS, cpu_s: 7, memory_mb: 100, disk_mb: 3 };
  const boundary = {
    os,
    sdkDir: "/opt/tau/sdk/",
    npmDir: "/home/t/.cache/tau/sandbox/abc/npm",
    viewImportMap: "/home/t/.tau/view_import_map.json",
  };
  const { wrapper, args, env, view, permissions } = buildRunLaunch({ net: [], secrets: [] }, {
    ...options,
    limits,
    auditFile: "/home/t/.tau/runs/r1-1/audit/permissions.jsonl",
    boundary,
  });
  const mib = 1024 * 1024;
  assertEquals(wrapper.slice(0, 6), [
    "/usr/bin/prlimit",
    "--cpu=7:8",
    `--data=${1124 * mib}:${1124 * mib}`,
    `--fsize=${3 * mib}:${3 * mib}`,
    "--",
    "/usr/bin/bwrap",
  ]);
  const bwrap = wrapper.slice(6).join(" ");
  for (
    const expected of [
      "--die-with-parent",
      "--unshare-pid",
      "--unshare-net", // declares no host
      "--cap-drop ALL",
      // Every run sees the same neutral paths, never where Tau keeps its files on the host.
      "--bind /home/t/.tau/runs/r1-1/scratch /tau/scratch",
      "--bind /home/t/.tau/runs/r1-1/deno /tau/deno",
      "--bind /home/t/.tau/runs/r1-1/audit /tau/audit",
      "--ro-bind /home/t/.tau/code/p/v1 /tau/code",
      "--ro-bind /opt/tau/sdk/ /tau/sdk",
      "--ro-bind /home/t/.cache/tau/sandbox/abc/npm /tau/deno/npm",
      "--ro-bind /home/t/.tau/view_import_map.json /tau/import_map.json",
      "--ro-bind /home/t/.cache/tau/sandbox/abc/drivers.lock /tau/deno.lock",
      `--ro-bind ${Deno.execPath()} /tau/bin/deno`,
      "--chdir /tau/scratch",
    ]
  ) assert.ok(bwrap.includes(expected), expected);
  assert.ok(!bwrap.includes("--bind /home/t/.tau "), "TAU_HOME itself is never mounted");
  assertEquals(wrapper.at(-1), "--");
  assertEquals(view.deno, "/tau/bin/deno");
  assert.ok(args.includes("--allow-read=/tau/scratch"));
  assert.ok(args.includes("--import-map=/tau/import_map.json"));
  assertEquals(args.at(-1), "/tau/code/entry.ts");
  assertEquals([env.HOME, env.DENO_DIR, env.DENO_AUDIT_PERMISSIONS], [
    "/tau/scratch",
    "/tau/deno",
    "/tau/audit/permissions.jsonl",
  ]);
  assertEquals(permissions.write, ["/tau/scratch"]);
  assert.ok(!args.join(" ").includes("/home/t/"), "no host path in the run's own flags");
  const networked = buildRunLaunch({ net: ["a.example:443"], secrets: [] }, {
    ...options,
    boundary,
  });
  assert.ok(!networked.wrapper.includes("--unshare-net"));
  assert.ok(networked.wrapper.join(" ").includes("--ro-bind-try /etc/resolv.conf"));
});

Deno.test("driver env probes are allowed but never set in the child", () => {
  const { args, env, permissions } = buildRunLaunch(
    { net: [], secrets: ["API_KEY", "PGAPPNAME"] },
    options,
    { API_KEY: "k", PGAPPNAME: "declared", PGTARGETSESSIONATTRS: "from-daemon" },
  );
  assert.ok(
    args.includes(
      `--allow-env=API_KEY,PGAPPNAME,${
        DRIVER_ENV_PROBES.filter((p) => p !== "PGAPPNAME").join(",")
      }`,
    ),
  );
  assertEquals(permissions.env_unset, DRIVER_ENV_PROBES.filter((p) => p !== "PGAPPNAME"));
  assertEquals(env.PGAPPNAME, "declared");
  assert.ok(!("PGTARGETSESSIONATTRS" in env));
});
