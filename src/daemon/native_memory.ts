/**
 * Hands freed native memory back to the system. The daemon's native heap (child pipes, HTTP
 * bodies, SQLite rows) fragments over thousands of runs, and glibc keeps freed chunks that sit
 * below live ones: after 10,000 runs that was most of the daemon's growth in resident memory.
 * `malloc_trim(0)` returns those pages, ~1 ms a call. Where libc has no `malloc_trim` (musl,
 * macOS) this does nothing.
 */

const EVERY_MS = 30_000;

type Trim = () => void;

let loaded: Trim | null | undefined;

/** Trims once now; false where libc has no malloc_trim. */
export function releaseFreedMemory(): boolean {
  loaded ??= loadTrim();
  loaded?.();
  return loaded !== null;
}

function loadTrim(): Trim | null {
  if (Deno.build.os !== "linux") return null;
  try {
    const libc = Deno.dlopen("libc.so.6", {
      malloc_trim: { parameters: ["usize"], result: "i32" },
    });
    return () => libc.symbols.malloc_trim(0n);
  } catch {
    return null; // not glibc
  }
}

/** Trims every 30 s until `stop`. */
export function trimNativeMemory(): { stop(): void } {
  if (!releaseFreedMemory()) return { stop() {} };
  const timer = setInterval(releaseFreedMemory, EVERY_MS);
  Deno.unrefTimer(timer);
  return { stop: () => clearInterval(timer) };
}
