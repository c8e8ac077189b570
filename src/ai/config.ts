/**
 * `[ai]` in tau.toml: which model `tau create` and `tau heal --auto` ask, and how. The key is
 * never in the file: `api_key_env` names the daemon's environment variable that holds it.
 */
import { z } from "zod";
import { duration } from "../core/validators.ts";

/** What Tau does when a run ends failed after its retries (pipelines may override it). */
export const onFailure = z.enum(["off", "diagnose", "auto"]);

export const aiSchema = z.strictObject({
  /** `anthropic`: the Messages API; `openai`: any OpenAI-compatible chat-completions server. */
  provider: z.enum(["anthropic", "openai"]),
  model: z.string().min(1),
  /** As the provider's SDK expects it: without `/v1` for anthropic, with `/v1` for openai. */
  base_url: z.url({ protocol: /^https?$/ }).optional(),
  /** @default ANTHROPIC_API_KEY or OPENAI_API_KEY, after the provider */
  api_key_env: z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/, {
    message: "must be the name of an environment variable, e.g. ANTHROPIC_API_KEY",
  }).optional(),
  /** Candidates asked for per create or heal, feedback rounds included. */
  max_attempts: z.number().int().min(1).max(10).default(3),
  /** Per model request; the SDK's retries (429, 5xx) come on top. */
  timeout: duration.default("5m"),
  /** Retries of a request answered 408, 409, 429 or 5xx, or lost, with the SDK's backoff. */
  max_retries: z.number().int().min(0).max(10).default(4),
  max_tokens: z.number().int().min(256).max(200_000).default(16_000),
  on_failure: onFailure.default("diagnose"),
  max_heals_per_day: z.number().int().min(0).default(10),
});

export type AiConfig = z.infer<typeof aiSchema>;
export type OnFailure = z.infer<typeof onFailure>;

/** The environment variable holding the model key. */
export function apiKeyEnv(ai: AiConfig): string {
  return ai.api_key_env ?? (ai.provider === "anthropic" ? "ANTHROPIC_API_KEY" : "OPENAI_API_KEY");
}

/** `[ai] on_failure`, `"diagnose"` without an `[ai]` table. */
export function defaultOnFailure(ai: AiConfig | undefined): OnFailure {
  return ai?.on_failure ?? "diagnose";
}
