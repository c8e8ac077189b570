/**
 * The candidate file in a model's reply: a `write_pipeline` tool call with `code`, or else
 * exactly one fenced TypeScript block. Anything else is no candidate, and says why.
 */
import type { ModelReply } from "./provider.ts";

export type Extracted = { code: string; via: "tool" | "fence" } | { error: string };

const FENCE = /```(?:ts|typescript)[ \t]*\r?\n([\s\S]*?)\r?\n?```/g;

export function extractCandidate(reply: Pick<ModelReply, "text" | "tool_calls">): Extracted {
  const calls = reply.tool_calls.filter((c) => c.name === "write_pipeline");
  if (calls.length > 1) {
    return { error: `the reply called write_pipeline ${calls.length} times; call it once` };
  }
  if (calls.length === 1) {
    const code = (calls[0]!.input as { code?: unknown } | null)?.code;
    if (typeof code !== "string" || code.trim() === "") {
      return { error: "write_pipeline was called without a non-empty string `code`" };
    }
    return { code: withNewline(code), via: "tool" };
  }
  const blocks = [...reply.text.matchAll(FENCE)].map((m) => m[1] ?? "");
  if (blocks.length === 1 && blocks[0]!.trim() !== "") {
    return { code: withNewline(blocks[0]!), via: "fence" };
  }
  return {
    error: blocks.length > 1
      ? `the reply holds ${blocks.length} fenced ts blocks; send exactly one, with the whole file`
      : "the reply holds no write_pipeline call and no fenced ```ts block with the file",
  };
}

function withNewline(code: string): string {
  return code.endsWith("\n") ? code : `${code}\n`;
}
