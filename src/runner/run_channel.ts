/**
 * A run's channel, from the parent's side: its stdin (the init message, then one reply per
 * request), and its stdout and stderr read line by line against the run's counted limits.
 */
import type { LineParser, ParsedLine } from "../protocol/line_parser.ts";
import type { RunLimits } from "../sandbox/limits.ts";
import type { EndReason } from "../sandbox/child.ts";

/**
 * The run's stdin: the init message, then one reply per request, each a whole line. Writes are
 * queued so lines never interleave; a closed pipe ends them quietly (the run is over).
 */
export class Channel {
  #queue: Promise<void> = Promise.resolve();
  readonly #encoder = new TextEncoder();

  constructor(private readonly writer: WritableStreamDefaultWriter<Uint8Array>) {}

  send(message: unknown): void {
    this.sendRaw(JSON.stringify(message));
  }

  /** Sends one line of JSON text the caller built. */
  sendRaw(json: string): void {
    const bytes = this.#encoder.encode(json + "\n");
    this.#queue = this.#queue.then(() => this.writer.write(bytes)).catch(() => {});
  }

  async close(): Promise<void> {
    await this.#queue;
    await this.writer.close().catch(() => {});
  }
}

/**
 * What the run has sent, against its limits: bytes printed (output), protocol events, and
 * bytes of requests Tau serves (refunded from output: they are work, not output).
 */
export class Counters {
  #output = 0;
  #events = 0;
  #requestBytes = 0;

  constructor(
    private readonly limits: RunLimits,
    private readonly end: (reason: EndReason, detail?: string) => void,
  ) {}

  /** Counts bytes read from the run. */
  read(bytes: number): void {
    this.#output += bytes;
  }

  /**
   * False once the output is past its cap (the rest is drained, not stored). `pending` bytes of
   * a line not yet complete do not count yet: that line may be a request.
   */
  withinOutput(pending: number): boolean {
    if (this.#output - pending <= this.limits.output_bytes) return true;
    this.end("output_limit");
    return false;
  }

  /** Counts an event; false once past the event cap. */
  event(): boolean {
    if (++this.#events <= this.limits.events) return true;
    this.end("event_limit", `more than ${this.limits.events} events`);
    return false;
  }

  /** Moves a request's bytes from output to requests; false once past the request cap. */
  request(bytes: number): boolean {
    this.#output -= bytes;
    this.#requestBytes += bytes;
    if (this.#requestBytes <= this.limits.request_bytes) return true;
    this.end("request_limit", `more than ${this.limits.request_bytes} bytes of requests`);
    return false;
  }
}

/** Feeds a stream's lines to `onLine`; once past the output cap the rest is drained unread. */
export async function consumeLines(
  stream: ReadableStream<Uint8Array>,
  parser: LineParser,
  counters: Counters,
  onLine: (line: ParsedLine) => Promise<void>,
): Promise<void> {
  const decoder = new TextDecoder();
  let open = true;
  for await (const chunk of stream) {
    if (!open) continue;
    counters.read(chunk.length);
    for (const line of parser.push(decoder.decode(chunk, { stream: true }))) await onLine(line);
    open = counters.withinOutput(parser.pendingChars);
  }
  if (open) { for (const line of parser.end()) await onLine(line); }
}
