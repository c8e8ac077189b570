/**
 * Watches a running child from the outside: resident memory, threads and CPU time of its whole
 * process tree (bubblewrap's processes, every Worker thread, and the engines working for it
 * included), the bytes and files in its folders, and the size of Deno's permission audit log.
 * Reads /proc and the file system, so it sees what the child cannot hide or fake; the first
 * limit passed is reported once and the caller kills the run.
 *
 * What the watchdog costs the daemon per sample does not grow with what the run holds: the
 * folders are walked again only after the run wrote something (its processes' write counters
 * or the audit log moved), no sooner than ten times the last walk's duration, and never past
 * the run's file cap. The time spent walking is charged to the run's CPU.
 */
import type { RunLimits } from "./limits.ts";
import { type DiskUsage, diskUsage } from "./disk_usage.ts";

export type LimitKind =
  | "memory_limit"
  | "cpu_limit"
  | "disk_limit"
  | "process_limit"
  | "audit_limit";

/** Peak usage seen over the run, as stored in its sandbox record. */
export interface Usage {
  memory_mb: number;
  threads: number;
  /** CPU time of the run's processes plus the daemon's time accounting its disk use. */
  cpu_s: number;
  disk_mb: number;
  files: number;
  /** Deno's permission audit log of the run. */
  audit_mb: number;
}

export interface WatchdogOptions {
  /** The run's child (prlimit/bubblewrap/deno). */
  pid: number;
  /** Other processes working for the run (its DuckDB engine), asked on every sample. */
  extraPids?: () => number[];
  limits: Pick<RunLimits, "memory_mb" | "cpu_s" | "disk_mb" | "threads" | "files">;
  /**
   * Folders whose contents count against the disk and file limits, less what they held when
   * the run began (`baseline`, e.g. the compiler caches a DENO_DIR starts with).
   */
  folders: string[];
  baseline?: { bytes: number; entries: number };
  /** Deno's audit log of the run: its size counts against `disk_mb` on its own. */
  auditFile?: string;
  onExceeded: (kind: LimitKind, detail: string) => void;
  /** Told of every walk of the folders (tests and benchmarks count them). */
  onWalk?: (usage: DiskUsage) => void;
}

/** What the run's processes had written and checked when last sampled. */
interface Activity {
  /** Bytes written (null: unknown). */
  wrote: number | null;
  /** Which processes those bytes are of. */
  tree: string;
  /** Size of the audit log (-1: none). */
  audit: number;
}

const SAMPLE_MS = 100;
/** The shortest line Deno's audit log has for a permission check. */
const MIN_AUDIT_LINE = 60;
const TREE_EVERY = 10;
/** A walk waits at least this many times its own duration after the previous one. */
const WALK_SPACING = 10;
const CLOCK_TICKS = 100; // USER_HZ on every Linux architecture Deno ships for
const CORES = navigator.hardwareConcurrency || 1;
const MIB = 1024 * 1024;

export class Watchdog {
  readonly peak: Usage = { memory_mb: 0, threads: 0, cpu_s: 0, disk_mb: 0, files: 0, audit_mb: 0 };
  readonly #o: WatchdogOptions;
  #timer: ReturnType<typeof setInterval> | undefined;
  #samples = 0;
  #busy = false;
  #fired = false;
  #tree: number[] = [];
  #roots = "";
  /** Seconds the daemon spent walking the run's folders. */
  #accountingS = 0;
  #walkedAt = -Infinity;
  #walkMs = 0;
  /** What the run had done, and held, at the last walk. */
  #lastWalk: { activity: Activity; bytes: number; files: number } | null = null;
  /** The last CPU reading: seconds used, at performance.now() ms (none yet: 0 at the start). */
  #cpu = { seconds: 0, at: performance.now() };

  constructor(options: WatchdogOptions) {
    this.#o = options;
  }

  start(): void {
    this.#timer = setInterval(() => {
      this.#sample().catch(() => {/* a failed sample is retried at the next tick */});
    }, SAMPLE_MS);
  }

  /**
   * Stops sampling and takes a last disk and audit reading: a run that passed a limit just
   * before it exited (faster than the sampling) is still reported.
   */
  async stop(): Promise<void> {
    clearInterval(this.#timer);
    while (this.#busy) await new Promise((resolve) => setTimeout(resolve, 5));
    await this.#measureDisk(null);
    this.#measureAudit();
    this.#fired = true;
  }

  async #sample(): Promise<void> {
    if (this.#busy || this.#fired) return;
    this.#busy = true;
    try {
      // Bytes the run's processes wrote so far; null where /proc cannot tell (then the folders
      // are walked whenever a walk is due).
      let wrote: number | null = null;
      let tree = "";
      if (Deno.build.os === "linux") {
        wrote = 0;
        const roots = [this.#o.pid, ...(this.#o.extraPids?.() ?? [])];
        const rootsKey = roots.join(",");
        // The whole of /proc is scanned now and then (processes reparented inside bubblewrap);
        // a child forked since the last scan is found at once, from its parent's children list.
        if (
          this.#samples < TREE_EVERY || this.#samples % TREE_EVERY === 0 ||
          rootsKey !== this.#roots || hasNewChildren(this.#tree)
        ) {
          this.#tree = processTrees(roots);
          this.#roots = rootsKey;
        }
        let rssKb = 0, threads = 0, ticks = 0;
        for (const pid of this.#tree) {
          const stats = processStats(pid);
          rssKb += stats.rssKb;
          threads += stats.threads;
          ticks += stats.cpuTicks;
          wrote = wrote === null || stats.written === null ? null : wrote + stats.written;
          tree += `${pid},`;
        }
        this.#check(
          "memory_limit",
          rssKb / 1024,
          "memory_mb",
          "memory_mb",
          "resident memory",
          "MiB",
        );
        this.#check("process_limit", threads, "threads", "threads", "threads", "");
        this.#noteCpu(ticks / CLOCK_TICKS + this.#accountingS);
        const cpu = this.#cpu.seconds;
        this.#check("cpu_limit", cpu, "cpu_s", "cpu_s", "CPU time", "s", this.#accountingNote());
      }
      this.#samples++;
      const audit = this.#measureAudit();
      if (this.#walkNeeded({ wrote, tree, audit })) await this.#measureDisk({ wrote, tree, audit });
    } finally {
      this.#busy = false;
    }
  }

  /**
   * Whether to walk the run's folders now. Anything that adds a byte or a file under them
   * either writes (the write counters move) or passes a permission check (the audit log grows),
   * so a run that did neither since the last walk is not walked again. Otherwise the next walk
   * waits ten times the last one's duration — unless what the run did since could have taken
   * it past a limit: every byte it wrote, and a file per audit line, counted as added.
   */
  #walkNeeded(now: Activity): boolean {
    const last = this.#lastWalk;
    if (last === null || now.wrote === null || now.tree !== last.activity.tree) {
      return this.#walkDue();
    }
    if (now.wrote === last.activity.wrote && now.audit === last.activity.audit) return false;
    if (this.#walkDue()) return true;
    const bytes = last.bytes + (now.wrote - (last.activity.wrote ?? 0));
    const files = last.files + Math.max(0, now.audit - last.activity.audit) / MIN_AUDIT_LINE;
    return bytes > this.#o.limits.disk_mb * MIB || files > this.#o.limits.files;
  }

  #walkDue(): boolean {
    return performance.now() - this.#walkedAt >= Math.max(SAMPLE_MS, this.#walkMs * WALK_SPACING);
  }

  /**
   * Whether the run's CPU time could have reached `seconds` by `until` (a performance.now()
   * time, such as when it exited): at most, it kept every core of the machine busy since the
   * last reading. A run that exits soon after an idle reading cannot have.
   */
  cpuCouldReach(seconds: number, until = performance.now()): boolean {
    const since = Math.max(0, until - this.#cpu.at) / 1000;
    // /proc's reading trails the runtime the kernel enforces RLIMIT_CPU on: under load, runs
    // killed at 2 s had last read 1.77 to 1.92 s within 25 ms of being seen to exit. Room for
    // that, half a second and a twentieth.
    const slack = 0.5 + seconds * 0.05;
    return this.#cpu.seconds + since * CORES + slack >= seconds;
  }

  /**
   * Notes a CPU reading. A reading lower than the last means a process left the tree between
   * the two (its time already counted, or about to be counted in its parent's children's time):
   * the last reading stands.
   */
  #noteCpu(seconds: number): void {
    if (seconds >= this.#cpu.seconds) this.#cpu = { seconds, at: performance.now() };
  }

  #accountingNote(): string {
    const s = Math.round(this.#accountingS * 10) / 10;
    return s > 0 ? `, of which ${s}s accounting for its disk use` : "";
  }

  async #measureDisk(activity: Activity | null): Promise<void> {
    const baseline = this.#o.baseline ?? { bytes: 0, entries: 0 };
    const usage = await diskUsage(this.#o.folders, this.#o.limits.files + baseline.entries);
    this.#o.onWalk?.(usage);
    this.#walkedAt = performance.now();
    this.#walkMs = usage.walkMs;
    this.#accountingS += usage.walkMs / 1000;
    const bytes = Math.max(0, usage.bytes - baseline.bytes);
    const files = Math.max(0, usage.entries - baseline.entries);
    if (activity) this.#lastWalk = { activity, bytes, files };
    this.#check("disk_limit", files, "files", "files", "files in its folders", "");
    this.#check("disk_limit", bytes / MIB, "disk_mb", "disk_mb", "disk use of its folders", "MiB");
  }

  /** The audit log's size, checked; returns it (or -1 when unknown). */
  #measureAudit(): number {
    if (!this.#o.auditFile) return -1;
    let size = 0;
    try {
      size = Deno.statSync(this.#o.auditFile).size;
    } catch { /* not written yet */ }
    this.#check("audit_limit", size / MIB, "audit_mb", "disk_mb", "permission audit log", "MiB");
    return size;
  }

  #check(
    kind: LimitKind,
    value: number,
    key: keyof Usage,
    limit: keyof WatchdogOptions["limits"],
    what: string,
    unit: string,
    note = "",
  ): void {
    const rounded = Math.round(value * 10) / 10;
    this.peak[key] = Math.max(this.peak[key], rounded);
    const max = this.#o.limits[limit];
    if (this.#fired || value <= max) return;
    this.#fired = true;
    this.#o.onExceeded(kind, `${what} reached ${rounded}${unit} (limit ${max}${unit})${note}`);
  }
}

/**
 * The roots and all their descendants. Each task's `children` file names the processes it
 * forked; reading those for the tree alone costs a few reads per process, where scanning every
 * /proc/PID/stat of the machine cost half the daemon's CPU with ten runs going. Kernels without
 * CONFIG_PROC_CHILDREN have no such files: there the parent pid in each /proc/PID/stat is read.
 * A run cannot start processes, so a tree only grows while bubblewrap starts deno; rescanning
 * now and then is enough. /proc is read synchronously: it lives in memory, and sync reads cost a
 * quarter of async ones.
 */
function processTrees(roots: number[]): number[] {
  const tree = [...roots];
  const seen = new Set(roots);
  const childrenOf = HAS_CHILDREN_FILES ? forkedBy : parentIndex();
  for (let i = 0; i < tree.length; i++) {
    for (const child of childrenOf(tree[i]!)) {
      if (!seen.has(child)) {
        seen.add(child);
        tree.push(child);
      }
    }
  }
  return tree;
}

const HAS_CHILDREN_FILES = (() => {
  try {
    Deno.statSync(`/proc/${Deno.pid}/task/${Deno.pid}/children`);
    return true;
  } catch {
    return false;
  }
})();

/** The processes any thread of `pid` forked. */
function forkedBy(pid: number): number[] {
  const children: number[] = [];
  let tasks: Deno.DirEntry[];
  try {
    tasks = [...Deno.readDirSync(`/proc/${pid}/task`)];
  } catch {
    return children; // gone
  }
  for (const task of tasks) {
    for (const child of readProc(`/proc/${pid}/task/${task.name}/children`).split(" ")) {
      if (child !== "") children.push(Number(child));
    }
  }
  return children;
}

/** Children by parent, from every process's /proc/PID/stat (the fallback: a whole scan). */
function parentIndex(): (pid: number) => number[] {
  const children = new Map<number, number[]>();
  for (const entry of Deno.readDirSync("/proc")) {
    if (!/^\d+$/.test(entry.name)) continue;
    const stat = readProc(`/proc/${entry.name}/stat`);
    const ppid = Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[1]);
    if (!ppid) continue;
    const list = children.get(ppid) ?? [];
    list.push(Number(entry.name));
    children.set(ppid, list);
  }
  return (pid) => children.get(pid) ?? [];
}

/**
 * Whether a process of the tree has a child the tree lacks (a run whose deno started after the
 * last scan, under load). Its CPU would otherwise go unseen until the next scan, and a run
 * killed by RLIMIT_CPU before then could not be told apart from a crash.
 */
function hasNewChildren(tree: number[]): boolean {
  const known = new Set(tree);
  return tree.some((pid) =>
    readProc(`/proc/${pid}/task/${pid}/children`).split(" ")
      .some((child) => child !== "" && !known.has(Number(child)))
  );
}

/**
 * Resident memory of a process and its descendants, in KiB (0 when it is gone): a warm child is
 * prlimit's or bubblewrap's process with deno below it.
 */
export function treeRssKb(pid: number): number {
  return processTrees([pid]).reduce((sum, each) => sum + processStats(each).rssKb, 0);
}

function processStats(pid: number) {
  const status = readProc(`/proc/${pid}/status`);
  const stat = readProc(`/proc/${pid}/stat`);
  const io = readProc(`/proc/${pid}/io`);
  // Fields after the command name (which may hold spaces): utime, stime, then cutime, cstime,
  // the time of children it has reaped (a dead Worker-spinning deno inside bubblewrap, say).
  const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  const wchar = /wchar:\s+(\d+)/.exec(io);
  return {
    rssKb: Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? 0),
    threads: Number(/Threads:\s+(\d+)/.exec(status)?.[1] ?? 0),
    cpuTicks: [11, 12, 13, 14].reduce((sum, i) => sum + Number(fields[i] ?? 0), 0),
    /** Bytes written by write calls (files and pipes alike): it moves whenever the run writes. */
    written: wchar ? Number(wchar[1]) : null,
  };
}

/** A /proc file's text, or "" for a process that is gone. */
function readProc(path: string): string {
  try {
    return Deno.readTextFileSync(path);
  } catch {
    return "";
  }
}
