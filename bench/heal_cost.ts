/**
 * What a heal costs apart from model time: N rounds of `POST /pipelines/:name/heal` with
 * `dry_run` (so the failing version stays current and every round heals the same failure),
 * each answered at once by a local model stand-in with a fixed file, against N rounds of one
 * deploy of a new version plus one run of it. A heal's rounds are the deploy checks of the
 * candidate plus its replay in the sandbox. Prints a table on stderr and one JSON document on
 * stdout; exits 1 if a heal does not pass or a run does not succeed.
 *
 *   deno run -A bench/heal_cost.ts [--rounds N]
 */
import { parseArgs } from "node:util";
import { pct, startBenchDaemon } from "./_daemon.ts";
import { modelStandIn } from "../tests/helpers/model_standin.ts";

const HEALED = "bench_heal";
const DEPLOYED = "bench_deploy";
const WAIT_MS = 60_000;

const { values } = parseArgs({ args: Deno.args, options: { rounds: { type: "string" } } });
const rounds = Number(values.rounds ?? 10);
if (!Number.isInteger(rounds) || rounds < 1) throw new Error("--rounds must be a positive integer");

/** A pipeline whose step fails, or (with `round`) succeeds; the comment makes each file new. */
const source = (name: string, round: number | null) =>
  `import { pipeline } from "tau";
// round ${round ?? "failing"}
export default pipeline({ name: "${name}" }, async (ctx) => {
  return await ctx.step("load", () => {
    ${round === null ? 'throw new Error("orders table is empty");' : "return { rows: 1 };"}
  });
});
`;

const model = modelStandIn(
  Array.from({ length: rounds + 1 }, (_, i) => ({ tool: { code: source(HEALED, i) } })),
);
const tmp = await Deno.makeTempDir({ prefix: "tau_bench_heal_" });
const home = `${tmp}/home`;
await Deno.mkdir(home);
await Deno.writeTextFile(
  `${home}/tau.toml`,
  `[ai]\nprovider = "anthropic"\nmodel = "standin"\nbase_url = "${model.anthropicUrl}"\n` +
    // The stand-in takes any key: any variable the daemon has set will do.
    `api_key_env = "PATH"\nmax_attempts = 1\n`,
);
const daemon = await startBenchDaemon(home, { cwd: tmp });
const round1 = (x: number) => Math.round(x * 10) / 10;
try {
  const { api } = daemon;
  const runOnce = async (name: string) => {
    let run = await api("POST", `/pipelines/${name}/runs`, { params: {}, wait_ms: WAIT_MS });
    while (!["success", "failed", "timed_out", "cancelled"].includes(run.status)) {
      run = await api("GET", `/runs/${run.run_id}?wait_ms=${WAIT_MS}`);
    }
    return run;
  };
  const deploy = (name: string, round: number | null) =>
    api("POST", "/pipelines", { code: source(name, round), filename: `${name}.ts` });

  await deploy(HEALED, null);
  const failed = await runOnce(HEALED);
  if (failed.status !== "failed") throw new Error(`expected a failed run, got ${failed.status}`);

  const heal = async () => {
    const started = performance.now();
    const result = await api("POST", `/pipelines/${HEALED}/heal`, {
      run_id: failed.run_id,
      dry_run: true,
    });
    if (result.attempts[0]?.outcome !== "success") {
      throw new Error(`heal did not pass: ${JSON.stringify(result.attempts)}`);
    }
    return performance.now() - started;
  };
  const deployAndRun = async (round: number) => {
    const started = performance.now();
    await deploy(DEPLOYED, round);
    const run = await runOnce(DEPLOYED);
    if (run.status !== "success") throw new Error(`run ${run.run_id} ended ${run.status}`);
    return performance.now() - started;
  };

  // One warm-up of each (the first type-check and run pay for caches), then interleaved rounds.
  await heal();
  await deployAndRun(0);
  const heals: number[] = [];
  const deploys: number[] = [];
  for (let i = 1; i <= rounds; i++) {
    heals.push(await heal());
    deploys.push(await deployAndRun(i));
  }
  const series = (xs: number[]) => ({ p50_ms: round1(pct(xs, 50)), p99_ms: round1(pct(xs, 99)) });
  const result = {
    rounds,
    heal_dry_run: series(heals),
    deploy_plus_run: series(deploys),
    ratio_p50: Math.round(pct(heals, 50) / pct(deploys, 50) * 100) / 100,
    model_requests: model.requests.length,
  };
  console.error(
    `heal (checks + replay, model answering at once): p50 ${result.heal_dry_run.p50_ms} ms\n` +
      `deploy + run of a new version:                  p50 ${result.deploy_plus_run.p50_ms} ms\n` +
      `ratio: ${result.ratio_p50}`,
  );
  console.log(JSON.stringify(result));
} finally {
  await daemon.stop();
  await model.close();
  await Deno.remove(tmp, { recursive: true });
}
