import { createHash } from "node:crypto";

/** Run ids sort by creation time: `run_` + base36 time + random suffix. */
export function newRunId(now = Date.now()): string {
  const random = crypto.getRandomValues(new Uint8Array(6));
  const suffix = Array.from(random, (b) => b.toString(16).padStart(2, "0")).join("");
  return `run_${now.toString(36)}${suffix}`;
}

/**
 * Hex SHA-256 of a string. Synchronous: node:crypto hashes a key in ~9 µs, where
 * `crypto.subtle.digest`'s trip to a worker thread cost ~400 µs of every API request.
 */
export function sha256Hex(text: string): string {
  return createHash("sha256").update(text).digest("hex");
}
