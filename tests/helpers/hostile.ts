/**
 * Helpers of the hostile suites: run an attack, watch the daemon's own memory and CPU while it
 * runs, and search everything stored and served for a secret in any of its encodings.
 */
import { assert, assertEquals } from "./assert.ts";
import { FIXTURES, type TestDaemon } from "./daemon.ts";

/** Resident memory (MiB) and CPU time (s) of a process, from /proc. */
export async function processUsage(pid: number): Promise<{ rssMb: number; cpuS: number }> {
  const status = await Deno.readTextFile(`/proc/${pid}/status`);
  const stat = await Deno.readTextFile(`/proc/${pid}/stat`);
  const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  return {
    rssMb: Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? 0) / 1024,
    cpuS: (Number(fields[11]) + Number(fields[12])) / 100,
  };
}

/** The daemon's peak memory growth and CPU time over `work`, sampled every 50 ms. */
export async function measureDaemon<T>(
  d: TestDaemon,
  work: () => Promise<T>,
): Promise<{ value: T; rssGrowthMb: number; cpuS: number }> {
  const pid = d.process.pid;
  const before = await processUsage(pid);
  let peak = before.rssMb;
  let sampling = true;
  const sampler = (async () => {
    while (sampling) {
      peak = Math.max(peak, (await processUsage(pid)).rssMb);
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  })();
  try {
    const value = await work();
    return {
      value,
      rssGrowthMb: peak - before.rssMb,
      cpuS: (await processUsage(pid)).cpuS - before.cpuS,
    };
  } finally {
    sampling = false;
    await sampler;
  }
}

/** Deploys tests/fixtures/<fixture>, with `replace` applied to its text first when given. */
export async function deployFixture(
  d: TestDaemon,
  fixture: string,
  replace: Record<string, string> = {},
): Promise<void> {
  let code = await Deno.readTextFile(`${FIXTURES}${fixture}`);
  for (const [from, to] of Object.entries(replace)) code = code.replaceAll(from, to);
  const dir = await Deno.makeTempDir();
  const file = `${dir}/${fixture.split("/").at(-1)}`;
  await Deno.writeTextFile(file, code);
  const res = await d.tau("deploy", file);
  await Deno.remove(dir, { recursive: true });
  assertEquals(res.code, 0, res.stdout);
}

// deno-lint-ignore no-explicit-any
export type RunJson = any;

/** `tau run NAME --params …`: the run record. */
export async function run(
  d: TestDaemon,
  name: string,
  params: Record<string, unknown> = {},
): Promise<RunJson> {
  const res = await d.tau("run", name, "--params", JSON.stringify(params));
  assert.ok(res.json.run_id, res.stdout.slice(0, 2000));
  return res.json;
}

/** A request to the daemon's API with its admin key (for bodies too large for a command line). */
export async function api(d: TestDaemon, method: string, path: string, body?: unknown) {
  const key = (await Deno.readTextFile(`${d.home}/api_key`)).trim();
  const res = await fetch(`http://127.0.0.1:${d.port}/api/v1${path}`, {
    method,
    headers: { authorization: `Bearer ${key}`, "content-type": "application/json" },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  return { status: res.status, json: await res.json() };
}

export function assertFailed(run: RunJson, kind: string, status = "failed"): void {
  assertEquals([run.status, run.error?.kind], [status, kind], JSON.stringify(run.error));
  assert.ok(typeof run.error.hint === "string" && run.error.hint.length > 0, "a hint");
}

/** The daemon still answers and runs a benign pipeline to success. */
export async function assertServing(d: TestDaemon): Promise<void> {
  assertEquals((await d.tau("status")).json.status, "ok");
  const ok = await d.tau("run", "hello_world");
  assertEquals(ok.json.status, "success", JSON.stringify(ok.json.error));
}

/**
 * A secret's forms a leak could take: itself, most of it (a cut before redaction would leave
 * that), base64, hex, URL-encoded, each of its lines.
 */
export function secretForms(secret: string): string[] {
  const bytes = new TextEncoder().encode(secret);
  const forms = [
    secret,
    secret.slice(0, Math.max(8, secret.length - 8)),
    btoa(String.fromCharCode(...bytes)).replace(/=+$/, ""),
    Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join(""),
    encodeURIComponent(secret),
  ];
  if (secret.includes("\n")) forms.push(...secret.split("\n").filter((line) => line.length >= 8));
  return forms;
}

/** No form of any secret in `text`; the message names what leaked where. */
export function assertNoSecret(text: string, secrets: string[], where: string): void {
  for (const secret of secrets) {
    for (const form of secretForms(secret)) {
      const at = text.indexOf(form);
      assert.ok(
        at === -1,
        `${where} holds a secret: …${text.slice(Math.max(0, at - 80), at + 80)}…`,
      );
    }
  }
}

/** Every byte of the daemon's SQLite database (and its write-ahead log), as text. */
export async function databaseBytes(d: TestDaemon): Promise<string> {
  let text = "";
  for (const file of ["tau.db", "tau.db-wal"]) {
    const bytes = await Deno.readFile(`${d.home}/${file}`).catch(() => new Uint8Array());
    text += new TextDecoder("latin1").decode(bytes);
  }
  return text;
}
