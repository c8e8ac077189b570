/**
 * The Tau pipeline SDK. A pipeline file imports `pipeline` from `"tau"`, declares what it
 * needs, and exports the result as its default export:
 *
 * ```ts
 * import { pipeline } from "tau";
 *
 * export default pipeline({ name: "hello_world" }, (ctx) => {
 *   ctx.log("Hello from Tau");
 *   return { ok: true };
 * });
 * ```
 *
 * @module
 */
export { isPipeline, pipeline } from "./pipeline.ts";
export type { Pipeline, PipelineFn } from "./pipeline.ts";
export type { Duration, PipelineConfig } from "./config.ts";
export {
  ConnectionNotDeclaredError,
  SecretNotDeclaredError,
  SecretNotSetError,
} from "./context.ts";
export type { Logger, PipelineContext, Step } from "./context.ts";
