/**
 * Deploys that arrive together share one compiler run. Most of a `deno check` is the compiler
 * starting and reading its libraries and the SDK (about 1.5 s here); each more file costs
 * about 50 ms. So while one check runs, the files that arrive wait and are checked together in
 * the next run.
 *
 * Only a pass is ever read from a shared run: a file with a diagnostic of its own, or any run
 * that reports what it cannot place (an import that does not resolve, a syntax error: the
 * compiler stops before the other files), is checked again alone, and the author sees that
 * lone check's output, exactly as without batching. A file that can change other files' types
 * (`declare global`, `declare module`, a `/// <reference>`) is always checked alone.
 */
import { pathToFileURL } from "node:url";
import { parseDenoOutput } from "./diagnostics.ts";

export interface CheckOutput {
  code: number;
  stderr: string;
}

/** Runs `deno check` over the given files. */
export type Compiler = (files: string[]) => Promise<CheckOutput>;

/** What a check of one file gave: a pass read from a shared run, or its lone check's output. */
export type CheckResult = "passed" | CheckOutput;

interface Job {
  file: string;
  resolve: (result: CheckResult) => void;
  reject: (err: unknown) => void;
}

/** Files whose declarations reach beyond themselves. */
const GLOBAL_EFFECTS = /\bdeclare\s+(?:global|module)\b|\/\/\/\s*<reference\b/;

/** Whether `code` may reach other files' types, and so is only ever checked alone. */
export function checkedAlone(code: string): boolean {
  return GLOBAL_EFFECTS.test(code);
}

export class CheckBatcher {
  readonly #compiler: Compiler;
  readonly #maxBatch: number;
  #waiting: Job[] = [];
  #running = false;

  constructor(compiler: Compiler, maxBatch = 32) {
    this.#compiler = compiler;
    this.#maxBatch = maxBatch;
  }

  /** Checks `file` (whose text is `code`), in the next run with whatever else is waiting. */
  check(file: string, code: string): Promise<CheckResult> {
    if (checkedAlone(code)) return this.#compiler([file]);
    return new Promise((resolve, reject) => {
      this.#waiting.push({ file, resolve, reject });
      if (!this.#running) void this.#drain();
    });
  }

  async #drain(): Promise<void> {
    this.#running = true;
    try {
      while (this.#waiting.length > 0) {
        const batch = this.#waiting.splice(0, this.#maxBatch);
        await this.#checkBatch(batch).catch((err) => batch.forEach((job) => job.reject(err)));
      }
    } finally {
      this.#running = false;
    }
  }

  async #checkBatch(batch: Job[]): Promise<void> {
    if (batch.length === 1) return batch[0]!.resolve(await this.#compiler([batch[0]!.file]));
    const output = await this.#compiler(batch.map((job) => job.file));
    const unsure = output.code === 0 ? [] : unsettled(batch.map((job) => job.file), output);
    const alone = batch.filter((job) => unsure.includes(job.file));
    for (const job of batch) if (!alone.includes(job)) job.resolve("passed");
    for (const job of alone) {
      try {
        job.resolve(await this.#compiler([job.file]));
      } catch (err) {
        job.reject(err);
      }
    }
  }
}

/** The files of a failed shared run of `files` whose result it cannot tell (the rest passed). */
export function unsettled(files: string[], output: CheckOutput): string[] {
  const { diagnostics, other } = parseDenoOutput(output.stderr);
  // Something not from the type-checker proper, or not placed: the run says nothing for sure.
  if (other.length > 0 || diagnostics.length === 0) return files;
  if (diagnostics.some((d) => !/^TS\d+$/.test(d.code))) return files;
  const flagged = new Set(diagnostics.map((d) => d.url));
  return files.filter((file) => flagged.has(pathToFileURL(file).href));
}
