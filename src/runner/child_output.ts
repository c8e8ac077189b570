/**
 * What a run's child prints, handled line by line: its logs and steps stored, its first result
 * and error kept for the verdict, its requests served by the trusted side's engines. Every line
 * arrives already bounded and validated (protocol/line_parser.ts); every string kept from it is
 * redacted.
 */
import type { ChildError } from "../protocol/events.ts";
import { errorText } from "../core/errors.ts";
import { LineParser, type ParsedLine } from "../protocol/line_parser.ts";
import type { Json, RunError } from "../store/mod.ts";
import { REQUEST_OPS, type RequestHandler } from "../connections/run_requests.ts";
import { type Channel, consumeLines, type Counters } from "./run_channel.ts";
import type { LogWriter } from "./log_writer.ts";
import type { Redactor } from "./redact.ts";
import type { Steps } from "./steps.ts";
import type { LineageRecorder } from "../lineage/recorder.ts";
import { MAX_LINE_CHARS } from "../../sdk/_limits.ts";

/** Longest stored part of a rejected protocol line. */
const MAX_REJECTED_CHARS = 200;
/** How many of the last stderr lines are kept for the error of a run that crashed. */
const STDERR_TAIL_LINES = 40;

export interface ChildOutputOptions {
  logs: LogWriter;
  steps: Steps;
  channel: Channel;
  counters: Counters;
  redact: Redactor;
  /** The child's error as stored (classified against the author's file, redacted, cut). */
  storedError: (error: ChildError) => RunError;
  requests?: RequestHandler;
  /** Notes the tables the run's served requests read and wrote (src/lineage/). */
  lineage?: LineageRecorder;
}

export class ChildOutput {
  /** The first valid result. */
  result: { value: Json } | null = null;
  /** The first valid error. */
  error: ChildError | null = null;
  /** Why a result line was refused, if one was. */
  resultRefused: string | null = null;
  /** The last lines of stderr. */
  readonly stderrTail: string[] = [];
  /** The connections the run asked the trusted side to work on. */
  readonly requested = new Set<string>();
  readonly #o: ChildOutputOptions;

  constructor(options: ChildOutputOptions) {
    this.#o = options;
  }

  /**
   * Reads the child's stdout (the protocol, under `nonce`) and its stderr until both close. A
   * failure while handling a line is Tau's, not the run's: it ends the run (`fail`), never the
   * daemon.
   */
  read(
    child: { stdout: ReadableStream<Uint8Array>; stderr: ReadableStream<Uint8Array> },
    nonce: string,
    fail: (detail: string) => void,
  ): [Promise<void>, Promise<void>] {
    const guarded = (handle: (line: ParsedLine) => unknown) => async (line: ParsedLine) => {
      try {
        await handle(line);
      } catch (err) {
        fail(`handling the run's output failed: ${errorText(err)}`);
      }
    };
    const { counters } = this.#o;
    return [
      consumeLines(child.stdout, new LineParser(nonce), counters, guarded((l) => this.stdout(l)))
        .catch((err) => fail(`reading the run's output failed: ${errorText(err)}`)),
      // stderr is never protocol: its parser's nonce is one nothing else knows.
      consumeLines(
        child.stderr,
        new LineParser(crypto.randomUUID()),
        counters,
        guarded((l) => this.stderr(l)),
      ).catch((err) => fail(`reading the run's stderr failed: ${errorText(err)}`)),
    ];
  }

  async stdout(line: ParsedLine): Promise<void> {
    const { logs, steps, counters, redact } = this.#o;
    if (line.kind === "text") return logs.write("stdout", line.text);
    if (line.kind === "invalid") {
      if (line.eventType === "result") this.resultRefused ??= resultRefusal(line.reason);
      if (line.eventType === "step_end" && line.seq !== null) steps.refused(line.seq, line.reason);
      return logs.write("system", `${line.reason}: ${redact.clip(line.text, MAX_REJECTED_CHARS)}`);
    }
    const event = line.event;
    if (!counters.event()) return; // past the cap: the run is ending, nothing more is stored
    switch (event.type) {
      case "log":
        return logs.write(event.level, event.message, event.step);
      case "step_start":
        return await steps.start(event.seq, event.name);
      case "step_end":
        return await steps.end(event.seq, event.name, {
          status: event.status,
          rows_in: event.rows_in,
          rows_out: event.rows_out,
          metadata: redact(event.metadata as Record<string, Json>),
          error: event.error ? this.#o.storedError(event.error) : null,
        });
      case "result":
        if (this.result === null) this.result = { value: redact(event.value as Json) };
        else logs.write("system", "a second result was ignored");
        return;
      case "error":
        if (this.error === null) this.error = event.error;
        else logs.write("system", "a second error was ignored");
        return;
      case "request":
        return this.#request(event.id, event.op, event.payload, line.size);
      default:
        logs.write("system", `unexpected event ${event.type} ignored`);
    }
  }

  stderr(line: ParsedLine): void {
    const text = line.kind === "event" ? "" : line.text;
    this.stderrTail.push(text);
    if (this.stderrTail.length > STDERR_TAIL_LINES) this.stderrTail.shift();
    this.#o.logs.write("stderr", text);
  }

  /** Only requests Tau serves are work rather than output; anything else is just bytes. */
  #request(id: number, op: string, payload: Record<string, unknown>, size: number): void {
    const { requests, channel, counters, redact, lineage, steps } = this.#o;
    if (!requests || !REQUEST_OPS.has(op)) {
      return channel.send({
        id,
        ok: false,
        error: { message: `Unknown request ${redact.clip(op, 100)}` },
      });
    }
    if (!counters.request(size)) return;
    if (typeof payload.connection === "string") this.requested.add(payload.connection);
    const step = steps.lastOpen();
    requests.handle(op, payload).then(
      (value) => {
        lineage?.observe(op, payload, step);
        channel.sendRaw(`{"id":${id},"ok":true,"value":${value}}`);
      },
      (err) =>
        channel.send({
          id,
          ok: false,
          error: { message: redact(errorText(err)) },
        }),
    );
  }
}

/** Why a result line was refused, as the run's error says it. */
function resultRefusal(reason: string): string {
  return /line longer than/.test(reason)
    ? `it is larger than the ${MAX_LINE_CHARS / 1024 / 1024} MiB a result may be`
    : reason.replace(/^protocol event rejected: /, "");
}
