/** Deterministic diagnosis of failed runs (`tau heal`); no model involved. */
export { diagnose } from "./diagnose.ts";
export { classifyError } from "./classify.ts";
export { diagnosisOnFailure, type HealMode, healReport, isDiagnosable } from "./load.ts";
export type * from "./types.ts";
