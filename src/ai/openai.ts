/** OpenAI chat completions (OpenAI, Ollama, vLLM, OpenRouter…) through the `openai` SDK. */
import OpenAI from "openai";
import {
  type ModelReply,
  type ModelRequest,
  type Provider,
  providerError,
  type ProviderOptions,
  sdkClientOptions,
  type ToolCall,
  WRITE_PIPELINE_TOOL,
} from "./provider.ts";

export class OpenAIProvider implements Provider {
  readonly name = "openai";
  readonly model: string;
  #client: OpenAI;
  #options: ProviderOptions;

  constructor(options: ProviderOptions) {
    this.model = options.model;
    this.#options = options;
    this.#client = new OpenAI({
      ...sdkClientOptions(options),
    });
  }

  async complete(request: ModelRequest): Promise<ModelReply> {
    const body = {
      model: this.model,
      max_completion_tokens: this.#options.maxTokens,
      messages: [
        { role: "system" as const, content: request.system },
        ...request.messages,
      ],
      ...(request.tool
        ? { tools: [{ type: "function" as const, function: WRITE_PIPELINE_TOOL }] }
        : {}),
    };
    let completion: OpenAI.ChatCompletion;
    try {
      completion = request.stream === false
        ? await this.#client.chat.completions.create(body)
        : await this.#client.chat.completions
          .stream({ ...body, stream_options: { include_usage: true } })
          .finalChatCompletion();
    } catch (err) {
      throw providerError(this.name, err, this.#options.apiKey);
    }
    const choice = completion.choices[0];
    const toolCalls: ToolCall[] = (choice?.message.tool_calls ?? []).flatMap((call) =>
      call.type === "function"
        ? [{ name: call.function.name, input: parsed(call.function.arguments) }]
        : []
    );
    return {
      text: choice?.message.content ?? "",
      tool_calls: toolCalls,
      usage: {
        input_tokens: completion.usage?.prompt_tokens ?? 0,
        output_tokens: completion.usage?.completion_tokens ?? 0,
      },
      stop_reason: choice?.finish_reason ?? null,
    };
  }
}

function parsed(args: string): unknown {
  try {
    return JSON.parse(args);
  } catch {
    return args;
  }
}
