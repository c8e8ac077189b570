/**
 * Watches a running child from the outside: resident memory and threads of its whole process
 * tree (bubblewrap's processes and every Worker thread included), its CPU time, and the bytes
 * in its scratch folder. Reads /proc, so it sees what the child cannot hide or fake; the first
 * limit passed is reported once and the caller kills the run.
 */
import { join } from "node:path";
import type { RunLimits } from "./limits.ts";

export type LimitKind = "memory_limit" | "cpu_limit" | "disk_limit" | "process_limit";

/** Peak usage seen over the run, as stored in its sandbox record. */
export interface Usage {
  memory_mb: number;
  threads: number;
  cpu_s: number;
  disk_mb: number;
}

const SAMPLE_MS = 100;
const DISK_EVERY = 1; // samples: a scratch folder is small; a fast writer is caught early
const TREE_EVERY = 10;
const CLOCK_TICKS = 100; // USER_HZ on every Linux architecture Deno ships for
const MIB = 1024 * 1024;

export class Watchdog {
  readonly peak: Usage = { memory_mb: 0, threads: 0, cpu_s: 0, disk_mb: 0 };
  #timer: ReturnType<typeof setInterval> | undefined;
  #samples = 0;
  #busy = false;
  #fired = false;
  #tree: number[] = [];

  constructor(
    private readonly pid: number,
    private readonly limits: Pick<RunLimits, "memory_mb" | "cpu_s" | "disk_mb" | "threads">,
    /** Folders and files whose size counts against the disk limit. */
    private readonly diskPaths: string[],
    private readonly onExceeded: (kind: LimitKind, detail: string) => void,
  ) {}

  start(): void {
    this.#timer = setInterval(() => void this.#sample(), SAMPLE_MS);
  }

  /** Stops sampling; takes one last disk reading so the record's peak is complete. */
  async stop(): Promise<void> {
    clearInterval(this.#timer);
    this.peak.disk_mb = Math.max(this.peak.disk_mb, await this.#diskMb());
  }

  async #sample(): Promise<void> {
    if (this.#busy || this.#fired) return;
    this.#busy = true;
    try {
      if (Deno.build.os === "linux") {
        if (this.#samples < TREE_EVERY || this.#samples % TREE_EVERY === 0) {
          this.#tree = await processTree(this.pid);
        }
        let rssKb = 0, threads = 0, ticks = 0;
        for (const pid of this.#tree) {
          const stats = await processStats(pid);
          rssKb += stats.rssKb;
          threads += stats.threads;
          ticks += stats.cpuTicks;
        }
        this.#check("memory_limit", rssKb / 1024, "memory_mb", `resident memory`, "MiB");
        this.#check("process_limit", threads, "threads", "threads", "");
        this.#check("cpu_limit", ticks / CLOCK_TICKS, "cpu_s", "CPU time", "s");
      }
      if (this.#samples++ % DISK_EVERY === 0) {
        this.#check("disk_limit", await this.#diskMb(), "disk_mb", "scratch disk use", "MiB");
      }
    } finally {
      this.#busy = false;
    }
  }

  #check(
    kind: LimitKind,
    value: number,
    key: keyof Usage & keyof RunLimits,
    what: string,
    unit: string,
  ): void {
    const rounded = Math.round(value * 10) / 10;
    this.peak[key] = Math.max(this.peak[key], rounded);
    if (this.#fired || value <= this.limits[key]) return;
    this.#fired = true;
    this.onExceeded(kind, `${what} reached ${rounded}${unit} (limit ${this.limits[key]}${unit})`);
  }

  async #diskMb(): Promise<number> {
    let bytes = 0;
    for (const path of this.diskPaths) bytes += await sizeOf(path);
    return bytes / MIB;
  }
}

/**
 * The pid and all its descendants, from the parent pid in each /proc/PID/stat (kernels without
 * CONFIG_PROC_CHILDREN have no children files). A run cannot start processes, so the tree only
 * grows while bubblewrap starts deno; rescanning now and then is enough.
 */
async function processTree(root: number): Promise<number[]> {
  const children = new Map<number, number[]>();
  for await (const name of readDirSafe("/proc")) {
    if (!/^\d+$/.test(name)) continue;
    const stat = await Deno.readTextFile(`/proc/${name}/stat`).catch(() => "");
    const ppid = Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[1]);
    if (!ppid) continue;
    const list = children.get(ppid) ?? [];
    list.push(Number(name));
    children.set(ppid, list);
  }
  const tree = [root];
  for (let i = 0; i < tree.length; i++) tree.push(...(children.get(tree[i]!) ?? []));
  return tree;
}

async function processStats(pid: number) {
  const status = await Deno.readTextFile(`/proc/${pid}/status`).catch(() => "");
  const stat = await Deno.readTextFile(`/proc/${pid}/stat`).catch(() => "");
  // Fields after the command name (which may hold spaces): utime and stime are 14th and 15th.
  const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  return {
    rssKb: Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? 0),
    threads: Number(/Threads:\s+(\d+)/.exec(status)?.[1] ?? 0),
    cpuTicks: Number(fields[11] ?? 0) + Number(fields[12] ?? 0),
  };
}

/**
 * Bytes under a path, without following symlinks. Every entry costs at least one 4 KiB block,
 * as on disk, so a million empty files count too.
 */
async function sizeOf(path: string): Promise<number> {
  const info = await Deno.lstat(path).catch(() => null);
  if (!info) return 0;
  if (!info.isDirectory) return Math.max(info.size, 4096);
  let total = 4096;
  for await (const name of readDirSafe(path)) total += await sizeOf(join(path, name));
  return total;
}

async function* readDirSafe(path: string): AsyncGenerator<string> {
  try {
    for await (const entry of Deno.readDir(path)) yield entry.name;
  } catch { /* gone while reading */ }
}
