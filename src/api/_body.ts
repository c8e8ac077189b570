/** Request bodies: their size bound and their parsing, shared by the app and the routes. */
import { TauError } from "../core/errors.ts";

export const MAX_BODY_BYTES = 2 * 1024 * 1024;

/** Reads a JSON body, turning malformed JSON into a clear error. */
export async function jsonBody(req: { text(): Promise<string> }): Promise<unknown> {
  const text = await req.text();
  if (text.trim() === "") return {};
  try {
    return JSON.parse(text);
  } catch {
    throw new TauError("invalid_request", "Request body is not valid JSON");
  }
}
