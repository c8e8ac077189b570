/** Bearer-key authentication for every API route; keys are compared in constant time. */
import { timingSafeEqual } from "node:crypto";
import type { MiddlewareHandler } from "hono";
import { TauError } from "../core/errors.ts";

async function digest(text: string): Promise<Uint8Array> {
  return new Uint8Array(await crypto.subtle.digest("SHA-256", new TextEncoder().encode(text)));
}

/** Accepts `Authorization: Bearer <key>` for any of the given keys. */
export function bearerAuth(keys: readonly string[]): MiddlewareHandler {
  const expected = Promise.all(keys.map(digest));
  return async function tauBearerAuth(c, next) {
    const header = c.req.header("authorization") ?? "";
    const match = /^Bearer\s+(\S+)$/i.exec(header);
    if (!match) {
      throw new TauError("unauthorized", "Missing API key", {
        hint: "send Authorization: Bearer <key>; locally the key is in $TAU_HOME/api_key",
      });
    }
    const given = await digest(match[1] as string);
    const ok = (await expected).some((key) => timingSafeEqual(key, given));
    if (!ok) {
      throw new TauError("unauthorized", "Invalid API key", {
        hint: "check TAU_API_KEY, or unset it to use the local key in $TAU_HOME/api_key",
      });
    }
    await next();
  };
}
