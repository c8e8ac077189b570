/**
 * What each error code of the API and CLI means, for the reference docs (the table in docs/cli.md
 * is checked against this by tests/docs_test.ts; the HTTP statuses live in errors.ts).
 */
export const ERROR_CODES = {
  invalid_request: "the request is not what the API expects (body, method)",
  invalid_params: "bad flags, arguments or query parameters",
  invalid_pipeline: "the file failed a deploy check; `details` says which",
  invalid_config: "tau.toml or a flag's value is wrong; the message names the key",
  invalid_schedule: "the cron expression or interval does not parse",
  unknown_dependency: "`dependsOn` names a pipeline that is not deployed",
  dependency_cycle: "the dependencies would form a cycle",
  unauthorized: "missing, wrong or revoked API key",
  forbidden: "the key's scope is too small (`details.scope`, `details.required`)",
  not_found: "no such pipeline, run, key or worker",
  name_conflict: "another file is already deployed under that name",
  conflict: "the request conflicts with the current state (e.g. the run already ended)",
  has_dependents: "other pipelines depend on it; pass --force",
  payload_too_large: "the body or a parameter is over its limit",
  daemon_unreachable: "the CLI could not reach taud; the message says where and why",
  sandbox_unavailable: "taud cannot sandbox runs: no OS boundary, or no deno of its version",
  ai_not_configured:
    "`tau create` / `tau heal --auto` need `[ai]` in tau.toml and its key in taud's environment",
  model_unavailable:
    "the model provider failed after retries (unreachable, 4xx, 5xx); the message says why",
  internal: "Tau itself failed; the daemon's log has the detail",
} as const;
