/** A failed tool call or read, as the error document the CLI prints. */
import { toErrorBody } from "../core/errors.ts";
import { RemoteError } from "../cli/client.ts";

/** The error document a failed call returns, as the CLI prints it. */
export function errorDocument(err: unknown): { error: Record<string, unknown> } {
  if (err instanceof RemoteError) {
    const body = err.body as { error?: Record<string, unknown> };
    if (body?.error) return { error: body.error };
    return { error: { code: "internal", message: `HTTP ${err.status}` } };
  }
  return { error: toErrorBody(err) as unknown as Record<string, unknown> };
}
