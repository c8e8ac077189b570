/** Runs a short-lived `deno` command on the trusted side with a bounded time and output. */
import { runtime } from "../runtime/root.ts";

export interface DenoProcessOptions {
  args: string[];
  /** A command that starts deno (bubblewrap and its arguments), and deno's path there. */
  wrapper?: { command: string[]; deno: string };
  env: Record<string, string>;
  cwd?: string;
  stdin?: string;
  /** @default {30_000} */
  timeoutMs?: number;
  /** Output beyond this many bytes per stream is dropped. @default {4 MiB} */
  maxOutputBytes?: number;
}

export interface DenoProcessResult {
  code: number;
  stdout: string;
  stderr: string;
  timedOut: boolean;
}

export async function runDenoProcess(options: DenoProcessOptions): Promise<DenoProcessResult> {
  const [program, ...prefix] = options.wrapper
    ? [...options.wrapper.command, options.wrapper.deno]
    : [runtime().deno];
  const child = new Deno.Command(program!, {
    args: [...prefix, ...options.args],
    env: options.env,
    clearEnv: true,
    cwd: options.cwd,
    stdin: options.stdin === undefined ? "null" : "piped",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  let timedOut = false;
  const timer = setTimeout(() => {
    timedOut = true;
    try {
      child.kill("SIGKILL");
    } catch { /* already gone */ }
  }, options.timeoutMs ?? 30_000);
  if (options.stdin !== undefined) {
    const writer = child.stdin.getWriter();
    await writer.write(new TextEncoder().encode(options.stdin)).catch(() => {});
    await writer.close().catch(() => {});
  }
  const max = options.maxOutputBytes ?? 4 * 1024 * 1024;
  const [stdout, stderr, status] = await Promise.all([
    readCapped(child.stdout, max),
    readCapped(child.stderr, max),
    child.status,
  ]);
  clearTimeout(timer);
  return { code: status.code, stdout, stderr, timedOut };
}

/** Reads a stream to its end, keeping at most `max` bytes. */
export async function readCapped(stream: ReadableStream<Uint8Array>, max: number): Promise<string> {
  const chunks: Uint8Array[] = [];
  let size = 0;
  for await (const chunk of stream) {
    if (size >= max) continue;
    const piece = chunk.subarray(0, max - size);
    chunks.push(piece);
    size += piece.length;
  }
  const all = new Uint8Array(size);
  let offset = 0;
  for (const c of chunks) {
    all.set(c, offset);
    offset += c.length;
  }
  return new TextDecoder().decode(all);
}

/** Strips ANSI colour codes from tool output before it reaches a JSON error. */
export function stripAnsi(text: string): string {
  // deno-lint-ignore no-control-regex
  return text.replace(/\x1b\[[0-9;]*m/g, "");
}
