/**
 * A run's child process from spawn to exit: started through its wrapper (prlimit, bubblewrap)
 * with a cleared environment, watched against its limits, told to stop before it is killed,
 * and killed at its timeout exactly. It records why it ended the child, if it did; what that
 * means for the run is decided elsewhere (runner/verdict.ts).
 */
import type { RunLaunch } from "./permissions.ts";
import type { RunLimits } from "./limits.ts";
import { type LimitKind, type Usage, Watchdog, type WatchdogOptions } from "./watchdog.ts";

/** Why the supervisor ended a child before it exited by itself. */
export type EndReason =
  | "timeout"
  | "cancelled"
  | "output_limit"
  | "event_limit"
  | "request_limit"
  | "channel_closed"
  | "internal"
  | LimitKind;

/** What a run is told when asked to stop (the reason its `ctx.signal` carries). */
export type StopLine = "cancel" | "drain" | "timeout";

/**
 * How long a run told to stop (its `ctx.signal` aborted) has before it is killed: after a
 * cancel or drain, and before its timeout (at most a tenth of it, so the timeout stays exact).
 */
export const STOP_GRACE_MS = 1_000;
/** After stdout closes, how long a child may take to exit before it is killed. */
const EXIT_GRACE_MS = 2_000;

export interface ChildOptions {
  launch: RunLaunch;
  /** The run's scratch folder on the host: its working directory. */
  cwd: string;
  limits: RunLimits;
}

/** What the watchdog counts besides the child itself (known once the child serves a run). */
export type ChildWatch = Pick<WatchdogOptions, "extraPids" | "folders" | "baseline" | "auditFile">;

/** How the child ended, with what the supervisor saw along the way. */
export interface ChildExit {
  status: Deno.CommandStatus;
  ended: { reason: EndReason; detail: string } | null;
  /** The child was told its timeout is near. */
  stopped: "timeout" | null;
  usage: Usage;
  /** Whether the child's CPU time could have reached `seconds` by the time it exited. */
  cpuCouldReach: (seconds: number) => boolean;
}

export class SandboxChild {
  readonly #process: Deno.ChildProcess;
  readonly #status: Promise<Deno.CommandStatus>;
  readonly #options: ChildOptions;
  #ended: ChildExit["ended"] = null;
  #stopped: ChildExit["stopped"] = null;
  #stopSent = false;
  #tellStop: (reason: StopLine) => void = () => {};
  #timers: ReturnType<typeof setTimeout>[] = [];
  #exited = false;
  #exitedAt = 0;
  #watchdog: Watchdog | null = null;

  constructor(options: ChildOptions) {
    const { launch } = options;
    this.#options = options;
    this.#process = new Deno.Command(launch.wrapper[0] ?? launch.view.deno, {
      args: launch.wrapper.length > 0
        ? [...launch.wrapper.slice(1), launch.view.deno, ...launch.args]
        : launch.args,
      env: launch.env,
      clearEnv: true,
      cwd: options.cwd,
      stdin: "piped",
      stdout: "piped",
      stderr: "piped",
    }).spawn();
    this.#status = this.#process.status.finally(() => {
      this.#exited = true;
      this.#exitedAt = performance.now();
    });
  }

  /** The child has exited (a warm child that died while it waited is never handed a run). */
  get exited(): boolean {
    return this.#exited;
  }

  get pid(): number {
    return this.#process.pid;
  }

  get stdin(): WritableStream<Uint8Array> {
    return this.#process.stdin;
  }

  get stdout(): ReadableStream<Uint8Array> {
    return this.#process.stdout;
  }

  get stderr(): ReadableStream<Uint8Array> {
    return this.#process.stderr;
  }

  /**
   * Starts the clocks and the watchdog, when the child is given its run (a warm child waits
   * unwatched before that: it has no run, and runs nothing but Deno's own start-up).
   * `tellStop` delivers a stop line to the run (its `ctx.signal` aborts); the timeout sends
   * one a grace period before it kills.
   */
  watch(tellStop: (reason: StopLine) => void, watch: ChildWatch): void {
    const { limits } = this.#options;
    this.#tellStop = tellStop;
    const grace = Math.min(STOP_GRACE_MS, Math.floor(limits.timeout_ms / 10));
    this.#timers.push(
      setTimeout(() => {
        this.#stopped = "timeout";
        this.#sendStop("timeout");
      }, limits.timeout_ms - grace),
      setTimeout(() => this.end("timeout"), limits.timeout_ms),
    );
    this.#watchdog = new Watchdog({
      pid: this.pid,
      limits,
      ...watch,
      onExceeded: (kind, detail) => this.end(kind, detail),
    });
    this.#watchdog.start();
  }

  /** Ends the child now; the first reason given is the one kept. */
  end(reason: EndReason, detail = ""): void {
    this.#ended ??= { reason, detail };
    this.#kill();
  }

  /**
   * A cancel or a drain tells the run to stop and kills it a grace period later. A run that is
   * no longer this worker's ("lost") gets no grace.
   */
  stop(reason: "cancel" | "drain" | "lost"): void {
    if (reason === "lost" || this.#ended) return this.end("cancelled");
    this.#ended = { reason: "cancelled", detail: "" };
    this.#sendStop(reason);
    this.#timers.push(setTimeout(() => this.#kill(), STOP_GRACE_MS));
  }

  /**
   * The child's stdout reached its end: if it keeps running it can no longer be heard, and is
   * ended. (Under bubblewrap its helpers hold the pipe too, so only its exit or limits end it.)
   */
  outputClosed(): void {
    if (this.#exited) return;
    this.#timers.push(setTimeout(() => !this.#exited && this.end("channel_closed"), EXIT_GRACE_MS));
  }

  /** Waits for the exit and for `readers` (its output), then stops every clock. */
  async exit(readers: Promise<unknown>[]): Promise<ChildExit> {
    let status: Deno.CommandStatus;
    try {
      [status] = await Promise.all([this.#status, ...readers]);
    } finally {
      for (const timer of this.#timers) clearTimeout(timer);
      await this.#watchdog?.stop();
    }
    const watchdog = this.#watchdog!;
    return {
      status,
      ended: this.#ended,
      stopped: this.#stopped,
      usage: watchdog.peak,
      cpuCouldReach: (seconds) => watchdog.cpuCouldReach(seconds, this.#exitedAt),
    };
  }

  /** Kills a child that never served a run, and waits until it is gone. */
  async discard(): Promise<void> {
    this.#kill();
    await Promise.all([
      this.#status,
      this.#process.stdin.close().catch(() => {}),
      this.#process.stdout.cancel().catch(() => {}),
      this.#process.stderr.cancel().catch(() => {}),
    ]);
  }

  #sendStop(reason: StopLine): void {
    if (this.#stopSent) return;
    this.#stopSent = true;
    this.#tellStop(reason);
  }

  #kill(): void {
    try {
      this.#process.kill("SIGKILL");
    } catch { /* already exited */ }
  }
}
