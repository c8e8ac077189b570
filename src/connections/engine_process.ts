/**
 * A run's DuckDB engine process, seen from the daemon: requests go out as lines on its stdin,
 * replies come back as lines on its stdout, read with a line cap. Everything the engine writes
 * is untrusted: a line that is oversized, not UTF-8, not a reply to a pending request, or whose
 * value is not well-formed JSON is an engine failure — pending requests reject and the engine is
 * killed. Reply values are passed on as text, never parsed here.
 */
import {
  ENGINE_LINE_MAX_BYTES,
  type OpenLine,
  parseReplyLine,
  type RequestLine,
} from "./engine_protocol.ts";
import type { EngineLaunch } from "./engine_launch.ts";
import { isJsonText } from "./json_text.ts";
import { readLines } from "./line_reader.ts";

const STDERR_KEEP_BYTES = 4 * 1024;
const SIGNALS: Record<number, Deno.Signal> = {
  6: "SIGABRT",
  9: "SIGKILL",
  11: "SIGSEGV",
  15: "SIGTERM",
  24: "SIGXCPU",
};

interface Pending {
  resolve: (value: string) => void;
  reject: (error: Error) => void;
}

export class EngineProcess {
  readonly pid: number;
  /** Resolves once the process has exited and its output is read. */
  readonly exited: Promise<void>;
  readonly #child: Deno.ChildProcess;
  readonly #stdin: WritableStreamDefaultWriter<Uint8Array>;
  readonly #pending = new Map<number, Pending>();
  readonly #encoder = new TextEncoder();
  readonly #lifetime: ReturnType<typeof setTimeout>;
  #nextId = 1;
  #failure: Error | null = null;
  #running = true;
  #stderr = "";

  /** Starts the engine; it is killed after `lifetimeMs` if nothing has stopped it by then. */
  constructor(launch: EngineLaunch, lifetimeMs: number) {
    this.#child = new Deno.Command(launch.command, {
      args: launch.args,
      env: launch.env,
      clearEnv: true,
      cwd: launch.cwd,
      stdin: "piped",
      stdout: "piped",
      stderr: "piped",
    }).spawn();
    this.pid = this.#child.pid;
    this.#stdin = this.#child.stdin.getWriter();
    this.#lifetime = setTimeout(
      () => this.#fail("The DuckDB engine of this run outlived the run's timeout"),
      lifetimeMs,
    );
    Deno.unrefTimer(this.#lifetime);
    this.exited = Promise.all([this.#child.status, this.#readReplies(), this.#readStderr()])
      .then(([status]) => this.#onExit(status));
  }

  /** True until the process has exited. */
  get running(): boolean {
    return this.#running;
  }

  /** Tells the engine a session's target (no reply). */
  open(message: OpenLine): void {
    this.#write(JSON.stringify(message));
  }

  /** Sends one request; resolves with the reply value as JSON text. */
  request(op: string, session: number | undefined, args: Record<string, unknown>): Promise<string> {
    if (this.#failure) return Promise.reject(this.#failure);
    const id = this.#nextId++;
    return new Promise((resolve, reject) => {
      this.#pending.set(id, { resolve, reject });
      this.#write(JSON.stringify({ id, op, session, args } satisfies RequestLine));
    });
  }

  /**
   * Ends the engine: pending requests reject with `reason`, end of input lets it interrupt its
   * statements and close its databases (a checkpoint), and after `graceMs` it is killed.
   */
  async stop(reason: Error, graceMs: number): Promise<void> {
    this.#failure ??= reason;
    this.#rejectPending();
    void this.#stdin.close().catch(() => {});
    const timer = setTimeout(() => this.#kill(), graceMs);
    await this.exited;
    clearTimeout(timer);
  }

  #write(line: string): void {
    this.#stdin.write(this.#encoder.encode(line + "\n")).catch(() => {});
  }

  async #readReplies(): Promise<void> {
    try {
      for await (const line of readLines(this.#child.stdout, ENGINE_LINE_MAX_BYTES)) {
        const reply = parseReplyLine(line);
        const pending = reply && this.#pending.get(reply.id);
        if (!reply || !pending || (reply.ok && !isJsonText(reply.value))) {
          return this.#fail("The DuckDB engine of this run sent a malformed reply");
        }
        this.#pending.delete(reply.id);
        if (reply.ok) pending.resolve(reply.value);
        else pending.reject(new Error(reply.error));
      }
    } catch (err) {
      this.#fail(`The DuckDB engine of this run sent a malformed reply: ${(err as Error).message}`);
    }
  }

  /** Keeps the start of the engine's stderr (why it failed), draining the rest. */
  async #readStderr(): Promise<void> {
    const decoder = new TextDecoder();
    for await (const chunk of this.#child.stderr) {
      if (this.#stderr.length < STDERR_KEEP_BYTES) this.#stderr += decoder.decode(chunk);
    }
  }

  #onExit(status: Deno.CommandStatus): void {
    this.#running = false;
    clearTimeout(this.#lifetime);
    // bubblewrap reports its child's death by signal N as exit code 128 + N.
    const signal = status.signal ?? SIGNALS[status.code - 128];
    const how = signal ? `killed by ${signal}` : `exit code ${status.code}`;
    const cpu = signal === "SIGXCPU" ? ", out of CPU time" : "";
    const said = this.#stderr.trim().split("\n")[0]?.slice(0, 300);
    this.#failure ??= new Error(
      `The DuckDB engine of this run stopped (${how}${cpu})${said ? `: ${said}` : ""}`,
    );
    this.#rejectPending();
  }

  #fail(message: string): void {
    this.#failure ??= new Error(message);
    this.#rejectPending();
    this.#kill();
  }

  #rejectPending(): void {
    for (const pending of this.#pending.values()) pending.reject(this.#failure!);
    this.#pending.clear();
  }

  #kill(): void {
    try {
      this.#child.kill("SIGKILL");
    } catch { /* already exited */ }
  }
}
