/**
 * What an agent does about each error: one line per API/CLI error code and per run error kind.
 * The meanings come from the code's own lists (error_codes.ts, run_error_kinds.ts); these
 * tables add the next move. Typed by those lists, so a new code or kind does not compile until
 * it has its advice here.
 */
import type { ErrorCode } from "../core/errors.ts";
import type { RunErrorKind } from "../core/run_error_kinds.ts";

/** The next move for each `error.code` a command or the API returns. */
export const CODE_ADVICE: Record<ErrorCode, string> = {
  invalid_request: "fix the request the message describes (method, body, query)",
  invalid_params: "fix the flag or argument: `hint` has the usage, `details.did_you_mean` the " +
    "nearest flag or command",
  invalid_pipeline: "fix the file where `details` and `location` point; repeat `tau check FILE` " +
    "until it passes, then deploy",
  invalid_config: "fix the key the message names (in tau.toml, or the flag's value)",
  invalid_schedule: 'write a cron of 5 or 6 fields (e.g. "0 6 * * *") or a whole number of ' +
    "seconds for `every`",
  unknown_dependency: "deploy the upstream first, or correct its name in `dependsOn`",
  dependency_cycle: "drop one of the edges; `tau dag` shows the graph",
  unauthorized: "set `TAU_API_KEY` to a valid key (a local daemon's is in `$TAU_HOME/api_key`)",
  forbidden: "ask for a key with the scope in `details.required`",
  not_found: "check the name or id: `tau list`, `tau runs NAME`, `tau keys list`",
  name_conflict: "deploy under another `--name`, or pass `--force` to replace that file",
  conflict: "read the current state again (`tau inspect NAME`) and act on what is there",
  has_dependents: "undeploy the pipelines that depend on it first, or pass `--force`",
  payload_too_large: "send less: a pipeline file is at most 1 MiB, a request body 2 MiB",
  daemon_unreachable: "start the daemon (`taud`, or `deno task taud` in a checkout), or point " +
    "`TAU_HOST` at the right one",
  sandbox_unavailable:
    "install bubblewrap or change `[sandbox] os_boundary`; a compiled taud: install the deno its hint names, or set `[sandbox] deno`",
  ai_not_configured: "add `[ai]` to tau.toml (the hint shows it) and the key to taud's " +
    "environment; or do the work by hand: `tau heal NAME`, edit, redeploy",
  model_unavailable: "try again later, or do the work by hand: `tau heal NAME`, edit, redeploy",
  internal: "not your doing: the daemon's log (`$TAU_HOME/taud.log`) has the detail; try again",
};

/** The next move for each `error.kind` a run record can carry. */
export const KIND_ADVICE: Record<RunErrorKind, string> = {
  exception: "open the file at `error.location`, read `hint` and the step's logs, fix the code",
  permission_denied: "declare the refused `target`: a host in `net` or the connection in " +
    "`connections`; a process (`run`) is never allowed, do it another way",
  undeclared_secret: "add the name to `secrets` and redeploy",
  undeclared_connection: "add the name to `connections` and redeploy",
  secret_not_set: "the code is fine: the variable must be exported where taud runs (then " +
    "restart taud)",
  schema_change: "choose the load's `onSchemaChange` the message names, or make the rows match " +
    "the table",
  unknown_connection: "use a connection `tau connections` lists, or define it in tau.toml",
  timeout: "do less per run or raise `timeout`; stop early when `ctx.signal` aborts",
  cancelled: "nothing to fix; `tau run NAME` when it should run again",
  output_limit: "print less (summaries, not rows), or raise `limits.outputMb`",
  memory_limit: "work in batches (`extractStream`), or raise `limits.memoryMb` (`limits.heapMb` " +
    "when the message names the heap)",
  cpu_limit: "do less per run, or raise `limits.cpuSeconds`",
  disk_limit: "write less to the scratch folder (stream to a connection), or raise " +
    "`limits.diskMb`",
  audit_limit: "open files and connections once and reuse them, or raise `limits.diskMb`",
  request_limit: "send fewer rows per run, or raise `limits.requestMb`",
  event_limit: "log and step per batch, not per row, or raise `limits.events`",
  process_limit: "start fewer Workers",
  channel_closed: "leave `Deno.stdout` open; return from the pipeline function to finish",
  invalid_output: "return a small plain-JSON summary (counts, ids) and keep step metadata " +
    "small; write the data itself to a connection",
  crashed: "never call `Deno.exit()`; the stack and last log lines show what ended the process",
  internal: "not the pipeline's fault: the daemon's log has the detail; `tau run NAME` again",
  daemon_restart: "nothing to fix in the code; `tau run NAME` again",
  worker_lost: "nothing to fix in the code; `tau workers` shows the lost worker, then " +
    "`tau run NAME` again",
  worker_stopped: "nothing to do: the run went back to the queue and runs again",
  invalid_pipeline: "`tau check FILE` and fix what it reports, then redeploy",
  overlap: 'nothing is broken; set `overlap: "queue"` to wait instead of skipping, or make runs ' +
    "shorter than the schedule's interval",
  upstream_failed: "fix the upstream run the message names, then `tau run UPSTREAM --downstream`",
};
