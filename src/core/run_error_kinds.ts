/**
 * Every `error.kind` a run record can carry, with what it means. The list in docs/cli.md is
 * checked against this one (tests/docs_test.ts), and `RunError.kind` is typed by it, so neither
 * drifts.
 */
export const RUN_ERROR_KINDS = {
  exception: "the pipeline threw",
  permission_denied: "the sandbox refused an access (`permission` and `target` say which)",
  undeclared_secret: "ctx.secret() of a name the pipeline does not declare",
  undeclared_connection: "ctx.connection() of a name the pipeline does not declare",
  secret_not_set: "a declared secret the daemon's environment does not hold",
  schema_change:
    "load refused a change of the table's columns (the message names them and onSchemaChange)",
  unknown_connection: "a declared connection tau.toml does not define",
  timeout: "the run outlived its timeout",
  cancelled: "tau cancel, or the daemon drained",
  output_limit: "more output than limits.outputMb",
  memory_limit: "more memory than limits.memoryMb",
  cpu_limit: "more CPU time than limits.cpuSeconds",
  disk_limit: "more disk (bytes or files) than its limits",
  audit_limit: "the permission audit log outgrew the disk limit",
  request_limit: "more request bytes than limits.requestMb",
  event_limit: "more events than the event limit",
  process_limit: "more threads or processes than allowed",
  channel_closed: "stdout ended while the process ran on",
  invalid_output: "no result, or a result or step metadata that is not bounded JSON",
  crashed: "the process exited without a result",
  internal: "Tau itself failed while running it; the daemon's log has the detail",
  daemon_restart: "the daemon stopped during the run",
  worker_lost: "the worker running it stopped heartbeating",
  worker_stopped: "the worker running it stopped",
  invalid_pipeline: "the deployed code is no longer a valid pipeline",
  overlap: "skipped: a schedule tick while a run was active",
  upstream_failed: "skipped: an upstream in the same logical run did not succeed",
} as const;

export type RunErrorKind = keyof typeof RUN_ERROR_KINDS;
