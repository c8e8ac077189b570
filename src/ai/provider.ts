/**
 * The one interface `tau create` and `tau heal --auto` ask a model through. Each provider wraps
 * its official SDK (retries on 429 and 5xx with the SDK's backoff, a timeout per request); the
 * key stays here and is redacted from every error this module lets out.
 */
import { errorText, TauError } from "../core/errors.ts";
import { parseDuration } from "../core/duration.ts";
import { type AiConfig, apiKeyEnv } from "./config.ts";

/** The turns of a conversation; the system prompt travels apart. */
export interface ModelMessage {
  role: "user" | "assistant";
  content: string;
}

export interface ModelRequest {
  system: string;
  messages: ModelMessage[];
  /** Offer the `write_pipeline` tool (the reply may still be text). @default false */
  tool?: boolean;
  /** Stream the reply (server-sent events) instead of one JSON document. @default true */
  stream?: boolean;
}

export interface ToolCall {
  name: string;
  /** The arguments, parsed (a string when they were not valid JSON). */
  input: unknown;
}

export interface Usage {
  input_tokens: number;
  output_tokens: number;
}

export interface ModelReply {
  text: string;
  tool_calls: ToolCall[];
  usage: Usage;
  /** Why the model stopped, in the provider's words (`end_turn`, `stop`, `max_tokens`…). */
  stop_reason: string | null;
}

export interface Provider {
  readonly name: "anthropic" | "openai";
  readonly model: string;
  complete(request: ModelRequest): Promise<ModelReply>;
}

/** What a provider's constructor takes, resolved from `[ai]` and the environment. */
export interface ProviderOptions {
  model: string;
  apiKey: string;
  baseUrl?: string;
  maxTokens: number;
  timeoutMs: number;
  /** Retries of a request answered 408, 409, 429 or 5xx, or lost (`[ai] max_retries`). */
  maxRetries: number;
}

/** The client options both official SDKs take alike. */
export function sdkClientOptions(options: ProviderOptions) {
  return {
    apiKey: options.apiKey,
    ...(options.baseUrl ? { baseURL: options.baseUrl } : {}),
    maxRetries: options.maxRetries,
    timeout: options.timeoutMs,
    logger: redactingLogger(options.apiKey),
  };
}

export const WRITE_PIPELINE_TOOL: {
  name: string;
  description: string;
  parameters: {
    type: "object";
    properties: Record<string, { type: string; description: string }>;
    required: string[];
  };
} = {
  name: "write_pipeline",
  description: "Write the complete pipeline file (TypeScript). Call it once, with the whole file.",
  parameters: {
    type: "object",
    properties: {
      code: { type: "string", description: "The complete contents of the pipeline .ts file" },
    },
    required: ["code"],
  },
};

/** The `[ai]` table this daemon read, or `ai_not_configured` with the TOML to add. */
export function requireAi(ai: AiConfig | undefined, command: string): AiConfig {
  if (ai) return ai;
  throw new TauError("ai_not_configured", `${command} needs a model, and tau.toml has no [ai]`, {
    hint: 'add to tau.toml, then restart taud: [ai] provider = "anthropic" ' +
      'model = "claude-sonnet-4-5" api_key_env = "ANTHROPIC_API_KEY" ' +
      '(or provider = "openai" with base_url = "http://127.0.0.1:11434/v1" for Ollama); ' +
      "see tau.toml.example",
  });
}

/** The options for `[ai]`, its key read from the daemon's environment. */
export function providerOptions(
  ai: AiConfig,
  env: { get(name: string): string | undefined } = Deno.env,
): ProviderOptions {
  const variable = apiKeyEnv(ai);
  const apiKey = env.get(variable);
  if (!apiKey) {
    throw new TauError(
      "ai_not_configured",
      `[ai] api_key_env names ${variable}, which is not set in taud's environment`,
      {
        hint: `export ${variable}=… before starting taud (a server that needs no key: ` +
          `set it to any value)`,
      },
    );
  }
  return {
    model: ai.model,
    apiKey,
    ...(ai.base_url ? { baseUrl: ai.base_url } : {}),
    maxTokens: ai.max_tokens,
    timeoutMs: parseDuration(ai.timeout) as number,
    maxRetries: ai.max_retries,
  };
}

/** Replaces every occurrence of the key (and a bearer header carrying it) in a text. */
export function redact(text: string, key: string): string {
  return key.length >= 4 ? text.split(key).join("[redacted]") : text;
}

/** A provider failure as a TauError, the key redacted from everything it says. */
export function providerError(provider: string, err: unknown, key: string): TauError {
  const status = (err as { status?: unknown })?.status;
  const message = redact(errorText(err), key);
  return new TauError(
    "model_unavailable",
    `The ${provider} model request failed${
      typeof status === "number" ? ` (HTTP ${status})` : ""
    }: ${message}`,
    {
      hint: status === 401 || status === 403
        ? "check the key in the variable [ai] api_key_env names, then restart taud"
        : status === 404
        ? "check [ai] model and base_url (anthropic: without /v1; openai: with /v1)"
        : "check [ai] base_url and that the provider is reachable; 429 and 5xx were retried",
      details: { provider, ...(typeof status === "number" ? { status } : {}) },
    },
  );
}

/** SDK log lines go to stderr with the key redacted (the SDKs log warnings only). */
export function redactingLogger(key: string) {
  const line = (level: string) => (message: string, ...rest: unknown[]) =>
    console.error(
      JSON.stringify({ event: "model_client", level, message: redact(String(message), key) }),
      ...rest.map((r) => redact(typeof r === "string" ? r : JSON.stringify(r) ?? "", key)),
    );
  return { error: line("error"), warn: line("warn"), info: line("info"), debug: line("debug") };
}
