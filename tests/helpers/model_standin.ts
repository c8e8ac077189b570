/**
 * For tests only: a model provider on 127.0.0.1 that speaks the Anthropic Messages API
 * (`POST /v1/messages`) and OpenAI chat completions (`POST /v1/chat/completions`), as one JSON
 * document or streamed as server-sent events (when the request says `stream: true`), the way
 * the official SDKs send and parse them. It answers from a script, one step per request, and
 * records every request.
 *
 * @module
 */
import { json, type Seen, standIn } from "./http_standin.ts";

/** One scripted answer. */
export type Step =
  /** A text reply (put a ```ts block in it to offer a file). */
  | { text: string }
  /** A `write_pipeline` tool call with this code, after optional text; sent once `after` settles. */
  | { tool: { code: string }; text?: string; after?: Promise<unknown> }
  /** An HTTP error with the provider's error body (429 and 5xx are retried by the SDKs). */
  | { status: number; message?: string }
  /** No answer until the stand-in closes (then a 400): a model call still under way. */
  | { hang: true };

export interface ModelRequestSeen extends Seen {
  /** The request body, parsed. */
  // deno-lint-ignore no-explicit-any
  json: any;
  streamed: boolean;
}

export interface ModelStandIn {
  /** Base URL as each SDK expects it: anthropic without /v1, openai with /v1. */
  anthropicUrl: string;
  openaiUrl: string;
  /** Every request, in order (model calls only). */
  requests: ModelRequestSeen[];
  /** Steps not yet used. */
  remaining(): number;
  close(): Promise<void>;
}

/** A fenced ```ts block holding `code`, as a model might answer in text. */
export function fenced(code: string, before = "Here is the pipeline:"): string {
  return `${before}\n\n\`\`\`ts\n${code}\`\`\`\n`;
}

export function modelStandIn(script: Step[]): ModelStandIn {
  const steps = [...script];
  const requests: ModelRequestSeen[] = [];
  const closing = Promise.withResolvers<void>();
  const server = standIn((seen) => {
    const body = JSON.parse(seen.body || "{}");
    const streamed = body.stream === true;
    requests.push({ ...seen, json: body, streamed });
    const wire = seen.path === "/v1/messages"
      ? "anthropic"
      : seen.path === "/v1/chat/completions"
      ? "openai"
      : null;
    if (!wire || seen.method !== "POST") return json({ error: `no route ${seen.path}` }, 404);
    const step = steps.shift();
    if (!step) return errorReply(wire, 400, "the stand-in's script is exhausted");
    if ("status" in step) return errorReply(wire, step.status, step.message ?? "scripted error");
    if ("hang" in step) return closing.promise.then(() => errorReply(wire, 400, "closed"));
    const reply = (step: Reply) => {
      const usage = { input: Math.ceil(seen.body.length / 4), output: replyTokens(step) };
      if (wire === "anthropic") {
        return streamed ? sse(anthropicEvents(step, body.model, usage)) : json(
          anthropicMessage(step, body.model, usage),
        );
      }
      return streamed ? sse(openaiChunks(step, body.model, usage)) : json(
        openaiCompletion(step, body.model, usage),
      );
    };
    return "after" in step && step.after ? step.after.then(() => reply(step)) : reply(step);
  });
  return {
    anthropicUrl: server.url,
    openaiUrl: `${server.url}/v1`,
    requests,
    remaining: () => steps.length,
    close: () => {
      closing.resolve();
      return server.close();
    },
  };
}

type Usage = { input: number; output: number };
type Reply = Exclude<Step, { status: number } | { hang: true }>;

function replyTokens(step: Reply): number {
  const text = ("tool" in step ? step.tool.code : "") + (step.text ?? "");
  return Math.max(1, Math.ceil(text.length / 4));
}

function errorReply(wire: "anthropic" | "openai", status: number, message: string): Response {
  // A short retry-after-ms keeps the SDKs' backoff (0.5 s and up by default) out of the tests.
  const headers = { "retry-after-ms": "10" };
  return wire === "anthropic"
    ? json(
      {
        type: "error",
        error: { type: status === 429 ? "rate_limit_error" : "api_error", message },
      },
      status,
      headers,
    )
    : json(
      { error: { message, type: status === 429 ? "rate_limit_exceeded" : "server_error" } },
      status,
      headers,
    );
}

function sse(events: { event?: string; data: unknown }[]): Response {
  const text = events.map((e) =>
    `${e.event ? `event: ${e.event}\n` : ""}data: ${
      typeof e.data === "string" ? e.data : JSON.stringify(e.data)
    }\n\n`
  ).join("");
  return new Response(text, { headers: { "content-type": "text/event-stream" } });
}

/** Splits a string in a few pieces, as a stream delivers it. */
function pieces(text: string, size = 40): string[] {
  const out: string[] = [];
  for (let i = 0; i < text.length; i += size) out.push(text.slice(i, i + size));
  return out;
}

// --- Anthropic Messages API ---

function anthropicMessage(step: Reply, model: string, usage: Usage) {
  const content: unknown[] = [];
  if (step.text) content.push({ type: "text", text: step.text });
  if ("tool" in step) {
    content.push({ type: "tool_use", id: "toolu_1", name: "write_pipeline", input: step.tool });
  }
  return {
    id: "msg_standin",
    type: "message",
    role: "assistant",
    model,
    content,
    stop_reason: "tool" in step ? "tool_use" : "end_turn",
    stop_sequence: null,
    usage: { input_tokens: usage.input, output_tokens: usage.output },
  };
}

function anthropicEvents(step: Reply, model: string, usage: Usage) {
  const events: { event: string; data: unknown }[] = [];
  const send = (event: string, data: Record<string, unknown>) =>
    events.push({ event, data: { type: event, ...data } });
  send("message_start", {
    message: {
      ...anthropicMessage(step, model, { input: usage.input, output: 1 }),
      content: [],
      stop_reason: null,
    },
  });
  let index = 0;
  if (step.text) {
    send("content_block_start", { index, content_block: { type: "text", text: "" } });
    for (const text of pieces(step.text)) {
      send("content_block_delta", { index, delta: { type: "text_delta", text } });
    }
    send("content_block_stop", { index });
    index++;
  }
  if ("tool" in step) {
    send("content_block_start", {
      index,
      content_block: { type: "tool_use", id: "toolu_1", name: "write_pipeline", input: {} },
    });
    for (const partial_json of pieces(JSON.stringify(step.tool))) {
      send("content_block_delta", { index, delta: { type: "input_json_delta", partial_json } });
    }
    send("content_block_stop", { index });
  }
  send("message_delta", {
    delta: { stop_reason: "tool" in step ? "tool_use" : "end_turn", stop_sequence: null },
    usage: { output_tokens: usage.output },
  });
  send("message_stop", {});
  return events;
}

// --- OpenAI chat completions ---

function openaiCompletion(step: Reply, model: string, usage: Usage) {
  return {
    id: "chatcmpl-standin",
    object: "chat.completion",
    created: 1,
    model,
    choices: [{
      index: 0,
      message: {
        role: "assistant",
        content: step.text ?? null,
        refusal: null,
        ...("tool" in step
          ? {
            tool_calls: [{
              id: "call_1",
              type: "function",
              function: { name: "write_pipeline", arguments: JSON.stringify(step.tool) },
            }],
          }
          : {}),
      },
      logprobs: null,
      finish_reason: "tool" in step ? "tool_calls" : "stop",
    }],
    usage: {
      prompt_tokens: usage.input,
      completion_tokens: usage.output,
      total_tokens: usage.input + usage.output,
    },
  };
}

function openaiChunks(step: Reply, model: string, usage: Usage) {
  const chunk = (choices: unknown[], extra: Record<string, unknown> = {}) => ({
    data: {
      id: "chatcmpl-standin",
      object: "chat.completion.chunk",
      created: 1,
      model,
      choices,
      ...extra,
    },
  });
  const delta = (d: Record<string, unknown>, finish: string | null = null) =>
    chunk([{ index: 0, delta: d, logprobs: null, finish_reason: finish }]);
  const events = [delta({ role: "assistant", content: "" })];
  for (const content of pieces(step.text ?? "")) events.push(delta({ content }));
  if ("tool" in step) {
    events.push(delta({
      tool_calls: [{
        index: 0,
        id: "call_1",
        type: "function",
        function: { name: "write_pipeline", arguments: "" },
      }],
    }));
    for (const args of pieces(JSON.stringify(step.tool))) {
      events.push(delta({ tool_calls: [{ index: 0, function: { arguments: args } }] }));
    }
  }
  events.push(delta({}, "tool" in step ? "tool_calls" : "stop"));
  // stream_options.include_usage: a last chunk with no choices carries the usage.
  events.push(chunk([], {
    usage: {
      prompt_tokens: usage.input,
      completion_tokens: usage.output,
      total_tokens: usage.input + usage.output,
    },
  }));
  return [...events, { data: "[DONE]" }];
}
