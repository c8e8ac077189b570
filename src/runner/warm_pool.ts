/**
 * Children started ahead of their runs, so a run of a recently run pipeline version skips
 * Deno's start inside the sandbox. A warm child is started exactly as a cold one — the same
 * folder layout, the same permission set, the same environment (its pipeline's declared
 * secrets and nothing else) — and waits for its init message with the SDK loaded and the
 * pipeline's own module not yet imported, so no pipeline code runs before its run begins.
 *
 * A child serves exactly one run and is never reused. Each is kept under a key hashed from
 * everything its command line and environment are made of (the version's entry file, declared
 * hosts and secrets, connection hosts, secret values, limits, the daemon's port and the OS
 * boundary): a run takes a child only when its own key is the same, so a redeploy, a permission
 * or config change or a new secret value can never reach a stale child. Stale children are also
 * discarded early — by a take of the same pipeline under another key, or by the sweep, which
 * finds pipelines whose current version moved on — and idle ones expire. Their resident memory
 * together stays under `[sandbox] warm_pool_mb`; the least recently kept go first.
 *
 * A child is kept only for a spec run twice within the idle time: one that runs once, or less
 * often than that (an hourly schedule), would only have its child expire unused.
 */
import { createHash } from "node:crypto";
import { treeRssKb } from "../sandbox/mod.ts";
import type { ChildSpec, RunChild } from "./run_child.ts";

export interface WarmPoolOptions {
  /** Resident memory all idle children may hold together; 0 keeps none. */
  budgetMb: number;
  /** An idle child is discarded this long after it was started. */
  idleMs: number;
  start: (spec: ChildSpec) => Promise<RunChild>;
  discard: (child: RunChild) => Promise<void>;
  /** The version a pipeline runs now (null: it is gone); the sweep drops the others' children. */
  currentVersion: (pipeline: string) => Promise<number | null>;
  onError?: (err: unknown) => void;
  /** Resident memory of a child's processes, KiB. @default {treeRssKb} */
  rssKb?: (pid: number) => number;
}

/** Which pipeline version a child is for (what the sweep and `tau status` see). */
export interface WarmFor {
  pipeline: string;
  version: number;
}

/** `tau status`'s `sandbox.warm_pool`. */
export interface WarmPoolStatus {
  budget_mb: number;
  idle_s: number;
  /** Resident memory of the idle children now. */
  used_mb: number;
  children: {
    pipeline: string;
    version: number;
    pid: number | null;
    age_s: number;
    memory_mb: number;
  }[];
  /** Runs that started on a warm child, and runs that started cold, since the daemon started. */
  hits: number;
  misses: number;
}

interface Entry extends WarmFor {
  key: string;
  startedAt: number;
  ready: Promise<RunChild | null>;
  child: RunChild | null;
}

/** Assumed resident memory of a child not measured yet, until one has been. */
const FIRST_ESTIMATE_KB = 64 * 1024;
const SWEEP_MS = 2_000;
/** Specs whose last two runs are remembered (the oldest are forgotten first). */
const REMEMBERED_SPECS = 10_000;

export class WarmPool {
  readonly #o: WarmPoolOptions;
  readonly #rssKb: (pid: number) => number;
  /** Idle children, one per key, oldest first (a Map keeps insertion order). */
  readonly #idle = new Map<string, Entry>();
  /** The largest child measured so far (0: none yet). */
  #largestKb = 0;
  #sweeper: ReturnType<typeof setInterval> | undefined;
  #closed = false;
  #hits = 0;
  #misses = 0;
  /** When each spec's last two runs began, by key. */
  readonly #starts = new Map<string, { previous: number | null; last: number }>();

  constructor(options: WarmPoolOptions) {
    this.#o = options;
    this.#rssKb = options.rssKb ?? treeRssKb;
  }

  /** Hands over the idle child started for exactly this spec, or null (the run starts cold). */
  async take(of: WarmFor, spec: ChildSpec): Promise<RunChild | null> {
    const key = keyOf(spec);
    this.#remember(key);
    for (const entry of [...this.#idle.values()]) {
      if (entry.pipeline === of.pipeline && entry.key !== key) this.#drop(entry);
    }
    const entry = this.#idle.get(key);
    if (!entry) {
      if (this.#o.budgetMb > 0) this.#misses++;
      return null;
    }
    this.#idle.delete(key);
    const child = await entry.ready;
    if (!child || child.child.exited) {
      if (child) void this.#discard(child);
      this.#misses++;
      return null;
    }
    this.#hits++;
    return child;
  }

  /**
   * Starts a child for the next run of this spec, if it runs often enough, none waits yet and the
   * budget allows one.
   */
  keep(of: WarmFor, spec: ChildSpec): void {
    const key = keyOf(spec);
    if (this.#closed || this.#o.budgetMb <= 0 || this.#idle.has(key)) return;
    const starts = this.#starts.get(key);
    if (starts?.previous == null || starts.last - starts.previous > this.#o.idleMs) return;
    const budgetKb = this.#o.budgetMb * 1024;
    let used = this.#usedKb();
    // The least recently kept give way, until a new child fits.
    for (const entry of this.#idle.values()) {
      if (used + this.#estimateKb() <= budgetKb) break;
      used -= this.#chargedKb(entry);
      this.#drop(entry);
    }
    if (used + this.#estimateKb() > budgetKb) return;
    const entry: Entry = { ...of, key, startedAt: Date.now(), child: null, ready: null! };
    entry.ready = this.#o.start(spec).then(
      (child) => (entry.child = child),
      (err) => {
        if (this.#idle.get(key) === entry) this.#idle.delete(key);
        this.#o.onError?.(err);
        return null;
      },
    );
    this.#idle.set(key, entry);
    this.#sweeper ??= setInterval(() => void this.sweep(), SWEEP_MS);
  }

  /**
   * Discards the children that died, expired, or belong to a version no longer current; stops
   * sweeping once none is left.
   */
  async sweep(): Promise<void> {
    const now = Date.now();
    const current = new Map<string, number | null>();
    for (const entry of [...this.#idle.values()]) {
      if (!current.has(entry.pipeline)) {
        current.set(
          entry.pipeline,
          await this.#o.currentVersion(entry.pipeline).catch(() => entry.version),
        );
      }
      const stale = current.get(entry.pipeline) !== entry.version;
      if (stale || now - entry.startedAt >= this.#o.idleMs || entry.child?.child.exited) {
        this.#drop(entry);
      }
    }
    if (this.#idle.size === 0) this.#stopSweeping();
  }

  status(): WarmPoolStatus {
    const now = Date.now();
    const children = [...this.#idle.values()].map((entry) => ({
      pipeline: entry.pipeline,
      version: entry.version,
      pid: entry.child?.child.pid ?? null,
      age_s: Math.round((now - entry.startedAt) / 1000),
      memory_mb: round(this.#measuredKb(entry) / 1024),
    }));
    return {
      budget_mb: this.#o.budgetMb,
      idle_s: Math.round(this.#o.idleMs / 1000),
      used_mb: round(children.reduce((sum, c) => sum + c.memory_mb, 0)),
      children,
      hits: this.#hits,
      misses: this.#misses,
    };
  }

  /** Discards every idle child (the daemon is stopping); nothing is kept afterwards. */
  async close(): Promise<void> {
    this.#closed = true;
    this.#stopSweeping();
    const entries = [...this.#idle.values()];
    this.#idle.clear();
    await Promise.all(entries.map(async (entry) => {
      const child = await entry.ready;
      if (child) await this.#discard(child);
    }));
  }

  #remember(key: string): void {
    const previous = this.#starts.get(key)?.last ?? null;
    this.#starts.delete(key); // re-inserted last: the map stays ordered by last use
    this.#starts.set(key, { previous, last: Date.now() });
    if (this.#starts.size > REMEMBERED_SPECS) {
      this.#starts.delete(this.#starts.keys().next().value!);
    }
  }

  #drop(entry: Entry): void {
    if (this.#idle.get(entry.key) === entry) this.#idle.delete(entry.key);
    void entry.ready.then((child) => child && this.#discard(child));
  }

  async #discard(child: RunChild): Promise<void> {
    await this.#o.discard(child).catch((err) => this.#o.onError?.(err));
  }

  #usedKb(): number {
    let total = 0;
    for (const entry of this.#idle.values()) total += this.#chargedKb(entry);
    return total;
  }

  /** A child's resident memory now (0 while it is still being started). */
  #measuredKb(entry: Entry): number {
    const measured = entry.child ? this.#rssKb(entry.child.child.pid) : 0;
    if (measured > this.#largestKb) this.#largestKb = measured;
    return measured;
  }

  /**
   * What a child counts against the budget: it grows while Deno loads, so never less than the
   * largest one seen.
   */
  #chargedKb(entry: Entry): number {
    return Math.max(this.#measuredKb(entry), this.#estimateKb());
  }

  /** What a child not measured yet is assumed to hold. */
  #estimateKb(): number {
    return this.#largestKb || FIRST_ESTIMATE_KB;
  }

  #stopSweeping(): void {
    clearInterval(this.#sweeper);
    this.#sweeper = undefined;
  }
}

/** Everything a child's command line and environment are made of, hashed (never stored). */
function keyOf(spec: ChildSpec): string {
  const secrets = Object.entries(spec.secretValues).sort(([a], [b]) => (a < b ? -1 : 1));
  return createHash("sha256").update(JSON.stringify([
    spec.entry,
    spec.metadata.net,
    spec.metadata.secrets,
    spec.connectionHosts,
    secrets,
    spec.limits,
    spec.daemonPorts,
    spec.daemonAddresses ?? null,
    spec.boundary,
  ])).digest("hex");
}

const round = (value: number) => Math.round(value * 10) / 10;
