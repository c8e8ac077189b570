import type { PipelineConfig } from "./config.ts";
import type { PipelineContext } from "./context.ts";

/** The body of a pipeline: receives the run's context, returns the run's result. */
export type PipelineFn<R = unknown> = (ctx: PipelineContext) => R | Promise<R>;

/**
 * A pipeline definition, as exported by default from a pipeline file. Make it with
 * {@link pipeline}, never by hand: Tau recognizes it by `kind` and reads `config` at deploy.
 */
export interface Pipeline<R = unknown> {
  /** Marks the value as a pipeline definition (see {@link isPipeline}). */
  readonly kind: "tau.pipeline";
  /** What the pipeline declares, exactly as passed to {@link pipeline}. */
  readonly config: PipelineConfig;
  /** The body Tau calls once per run attempt. */
  readonly fn: PipelineFn<R>;
}

/**
 * Defines a pipeline. Export the result as the module's default export and deploy the file
 * with `tau deploy`. The value the function returns becomes the run's `result` (it must be
 * JSON-serializable).
 *
 * @example Define a pipeline
 * ```ts
 * import { pipeline } from "tau";
 *
 * export default pipeline({ name: "hello" }, async (ctx) => {
 *   const rows = await ctx.step("extract", (step) => {
 *     step.rowsOut = 2;
 *     return [{ id: 1 }, { id: 2 }];
 *   });
 *   ctx.log(`extracted ${rows.length} rows`);
 *   return { rows: rows.length };
 * });
 * ```
 */
export function pipeline<R>(config: PipelineConfig, fn: PipelineFn<R>): Pipeline<R> {
  if (typeof fn !== "function") {
    throw new TypeError("Cannot define pipeline: the second argument must be a function");
  }
  return Object.freeze({ kind: "tau.pipeline", config, fn });
}

/**
 * True when a value is a pipeline made by {@link pipeline}: how Tau checks a file's default
 * export before it deploys or runs it.
 *
 * @example Check a module's default export
 * ```ts
 * import assert from "node:assert/strict";
 * import { isPipeline, pipeline } from "tau";
 *
 * const hello = pipeline({ name: "hello" }, () => ({ ok: true }));
 * assert.equal(isPipeline(hello), true);
 * assert.equal(isPipeline({ name: "hello" }), false);
 * ```
 */
export function isPipeline(value: unknown): value is Pipeline {
  return typeof value === "object" && value !== null &&
    (value as { kind?: unknown }).kind === "tau.pipeline" &&
    typeof (value as { fn?: unknown }).fn === "function";
}
