/** Rules both stores apply to pipelines and their versions. */
import { TauError } from "../core/errors.ts";
import type { DeployInput, NewVersion, PipelineVersion } from "./types.ts";

/** The version a deploy stores: `source` and `parent` default to a deploy of the current one. */
export function deployedVersion(input: DeployInput, current: number | null): NewVersion {
  return {
    ...input,
    source: input.source ?? "deploy",
    parent: input.parent !== undefined ? input.parent : current,
  };
}

/** The pipeline's `schedule` column once `version` is current: its metadata's cron, if any. */
export function scheduleOf(version: PipelineVersion): string | null {
  const schedule = version.metadata.schedule;
  return typeof schedule === "string" ? schedule : null;
}

/** A row that refers to a missing pipeline (the database's foreign key refused it). */
export function pipelineNotFound(name: string, cause: unknown): TauError {
  return new TauError("not_found", `Pipeline ${name} does not exist`, { cause });
}

/** A candidate version of a pipeline never deployed. */
export function pipelineNotDeployed(name: string): TauError {
  return new TauError("not_found", `Pipeline ${name} does not exist`, {
    hint: "deploy it first with tau deploy FILE",
  });
}
