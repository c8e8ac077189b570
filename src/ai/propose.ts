/**
 * The model proposes, Tau verifies: ask for a complete pipeline file, check each candidate with
 * a verifier the caller supplies (`tau create`: the deploy checks; `tau heal --auto` adds a
 * sandbox replay), and send each failure back as the next message, up to `maxAttempts`.
 */
import { type ErrorBody, TauError } from "../core/errors.ts";
import { extractCandidate } from "./extract.ts";
import type { ModelMessage, Provider, Usage } from "./provider.ts";

export type Outcome = "invalid" | "type_error" | "replay_failed" | "permission_change" | "success";

/** One candidate and what became of it; a verifier may add fields (run_id, candidate_version). */
export interface Attempt {
  n: number;
  outcome: Outcome;
  error: ErrorBody | null;
  usage: Usage;
  [extra: string]: unknown;
}

/** A verifier's answer: the candidate passed (with what it produced), or why not. */
export type Verdict<T> =
  | { ok: true; value: T; extra?: Record<string, unknown> }
  | {
    ok: false;
    outcome: Exclude<Outcome, "success">;
    error: ErrorBody;
    /** What the model is told next (quote anything a run produced with {@link untrusted}). */
    feedback: string;
    extra?: Record<string, unknown>;
  };

export type Verifier<T> = (code: string, n: number) => Promise<Verdict<T>>;

export interface Proposal<T> {
  /** The accepted file, or null when no attempt passed. */
  code: string | null;
  value: T | null;
  attempts: Attempt[];
  usage: Usage;
}

export async function proposeAndVerify<T>(
  provider: Provider,
  options: { system: string; prompt: string; maxAttempts: number; verify: Verifier<T> },
): Promise<Proposal<T>> {
  const messages: ModelMessage[] = [{ role: "user", content: options.prompt }];
  const attempts: Attempt[] = [];
  const usage: Usage = { input_tokens: 0, output_tokens: 0 };
  for (let n = 1; n <= options.maxAttempts; n++) {
    let reply;
    try {
      reply = await provider.complete({ system: options.system, messages, tool: true });
    } catch (err) {
      // What was spent and tried so far is part of the answer, even when the provider fails.
      if (err instanceof TauError) {
        const details = { ...err.details as object, attempts, usage };
        throw new TauError(err.code, err.message, { hint: err.hint, details, cause: err });
      }
      throw err;
    }
    usage.input_tokens += reply.usage.input_tokens;
    usage.output_tokens += reply.usage.output_tokens;
    const extracted = extractCandidate(reply);
    if ("error" in extracted) {
      messages.push({ role: "assistant", content: reply.text.trim() || "(no file)" });
      attempts.push({
        n,
        outcome: "invalid",
        error: { code: "invalid_reply", message: extracted.error },
        usage: reply.usage,
      });
      messages.push({
        role: "user",
        content: `No candidate file: ${extracted.error}. Call write_pipeline with the whole ` +
          "file, or answer with exactly one ```ts block holding it.",
      });
      continue;
    }
    // The history holds the candidate as text, whichever way it came: no tool-result protocol.
    messages.push({ role: "assistant", content: "```ts\n" + extracted.code + "```" });
    const verdict = await options.verify(extracted.code, n);
    if (verdict.ok) {
      attempts.push({ n, outcome: "success", error: null, usage: reply.usage, ...verdict.extra });
      return { code: extracted.code, value: verdict.value, attempts, usage };
    }
    attempts.push({
      n,
      outcome: verdict.outcome,
      error: verdict.error,
      usage: reply.usage,
      ...verdict.extra,
    });
    messages.push({ role: "user", content: verdict.feedback });
  }
  return { code: null, value: null, attempts, usage };
}

/**
 * Text from outside the conversation's authors (logs, errors, anything a run printed) between
 * delimiters the text cannot forge: a random tag closes it.
 */
export function untrusted(label: string, text: string): string {
  const tag = `${label}-${crypto.randomUUID().slice(0, 8)}`;
  return `<data ${tag}>\n${text}\n</data ${tag}>`;
}

/** The lines of `code` around `line`, numbered (`  12 | …`), the line itself marked `>`. */
export function numberedExcerpt(code: string, line: number, around = 3): string {
  const lines = code.split("\n");
  const from = Math.max(1, line - around);
  const to = Math.min(lines.length, line + around);
  const width = String(to).length;
  const out: string[] = [];
  for (let n = from; n <= to; n++) {
    out.push(`${n === line ? ">" : " "}${String(n).padStart(width)} | ${lines[n - 1]}`);
  }
  return out.join("\n");
}

/** A failed deploy check as a verdict: the error with its diagnostics and the lines they name. */
export function checkFailure(err: TauError, code: string): Verdict<never> {
  const body = err.toJSON();
  const diagnostics = (err.details as { diagnostics?: DiagnosticLike[] } | undefined)?.diagnostics;
  const places = diagnostics?.length
    ? diagnostics.slice(0, 10)
    : err.location
    ? [{ ...err.location, message: err.message }]
    : [];
  const report = [
    `${err.code}: ${err.message}`,
    ...(err.hint ? [`hint: ${err.hint}`] : []),
    ...places.map((d) =>
      `line ${d.line}, column ${d.column}: ${d.message}\n${numberedExcerpt(code, d.line)}`
    ),
  ].join("\n\n");
  return {
    ok: false,
    outcome: "type_error",
    error: body,
    feedback: "The file failed Tau's deploy checks. The checker's report:\n" +
      untrusted("check-report", report) +
      "\nFix it and send the complete corrected file again.",
  };
}

interface DiagnosticLike {
  line: number;
  column: number;
  message: string;
}
