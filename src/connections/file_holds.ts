/**
 * DuckDB is single-writer: a database file is locked by the one process that opens it. So a
 * file serves one run's engine at a time, in the order runs asked for it; the next run's first
 * request waits until the previous run's engine has exited.
 */

export interface FileHold {
  /** Resolves when every earlier holder of the file has released it. */
  ready: Promise<void>;
  /** Lets the next holder in; may be called before `ready`, and more than once. */
  release(): void;
}

const holders = new Map<string, Promise<void>>();

export function holdFile(path: string): FileHold {
  const previous = holders.get(path) ?? Promise.resolve();
  let release!: () => void;
  const mine = new Promise<void>((resolve) => release = resolve);
  const chained = previous.then(() => mine);
  holders.set(path, chained);
  // Forgotten only once every earlier holder is gone too, so the next one still waits for them.
  void chained.then(() => {
    if (holders.get(path) === chained) holders.delete(path);
  });
  return { ready: previous, release };
}
