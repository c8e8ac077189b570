/** The Anthropic Messages API through `@anthropic-ai/sdk`. */
import Anthropic from "@anthropic-ai/sdk";
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

export class AnthropicProvider implements Provider {
  readonly name = "anthropic";
  readonly model: string;
  #client: Anthropic;
  #options: ProviderOptions;

  constructor(options: ProviderOptions) {
    this.model = options.model;
    this.#options = options;
    this.#client = new Anthropic({
      ...sdkClientOptions(options),
      authToken: null, // not ANTHROPIC_AUTH_TOKEN from the daemon's environment
    });
  }

  async complete(request: ModelRequest): Promise<ModelReply> {
    const body: Anthropic.MessageCreateParamsNonStreaming = {
      model: this.model,
      max_tokens: this.#options.maxTokens,
      system: request.system,
      messages: request.messages,
      ...(request.tool
        ? {
          tools: [{
            name: WRITE_PIPELINE_TOOL.name,
            description: WRITE_PIPELINE_TOOL.description,
            input_schema: WRITE_PIPELINE_TOOL.parameters,
          }],
        }
        : {}),
    };
    let message: Anthropic.Message;
    try {
      message = request.stream === false
        ? await this.#client.messages.create(body)
        : await this.#client.messages.stream(body).finalMessage();
    } catch (err) {
      throw providerError(this.name, err, this.#options.apiKey);
    }
    const text: string[] = [];
    const toolCalls: ToolCall[] = [];
    for (const block of message.content) {
      if (block.type === "text") text.push(block.text);
      if (block.type === "tool_use") toolCalls.push({ name: block.name, input: block.input });
    }
    return {
      text: text.join(""),
      tool_calls: toolCalls,
      usage: {
        input_tokens: message.usage.input_tokens,
        output_tokens: message.usage.output_tokens,
      },
      stop_reason: message.stop_reason,
    };
  }
}
