/** The model layer of `tau create` and `tau heal --auto`: providers and the propose loop. */
import type { AiConfig } from "./config.ts";
import { type Provider, providerOptions } from "./provider.ts";

export type { AiConfig, OnFailure } from "./config.ts";
export { apiKeyEnv, defaultOnFailure } from "./config.ts";
export type { ModelMessage, ModelReply, ModelRequest, Provider, Usage } from "./provider.ts";
export { redact, requireAi } from "./provider.ts";
export { extractCandidate } from "./extract.ts";
export { proposeAndVerify, untrusted } from "./propose.ts";
export type { Attempt, Proposal, Verdict, Verifier } from "./propose.ts";

/**
 * The provider `[ai]` names, its key read from the daemon's environment. The SDKs are loaded on
 * first use: a daemon that never asks a model does not load them.
 */
export async function openProvider(
  ai: AiConfig,
  env: { get(name: string): string | undefined } = Deno.env,
): Promise<Provider> {
  const options = providerOptions(ai, env);
  return ai.provider === "anthropic"
    ? new (await import("./anthropic.ts")).AnthropicProvider(options)
    : new (await import("./openai.ts")).OpenAIProvider(options);
}
