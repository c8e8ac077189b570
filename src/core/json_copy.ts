/**
 * Copies a JSON-like value without recursion, so no depth of nesting overflows the stack: the
 * one walker behind redaction and the clamping of stored values. Keys are defined, never
 * assigned, so a key named `__proto__` stays a key.
 */

export interface CopyOptions {
  /** Applied to every string, object keys included. @default {identity} */
  string?: (text: string) => string;
  /** Arrays and objects deeper than this are replaced by `tooDeep`. @default {Infinity} */
  maxDepth?: number;
  /** What stands for a value nested too deep. */
  tooDeep?: unknown;
}

export function copyJson(value: unknown, options: CopyOptions = {}): unknown {
  const fn = options.string ?? ((text: string) => text);
  const maxDepth = options.maxDepth ?? Infinity;
  if (typeof value === "string") return fn(value);
  if (value === null || typeof value !== "object") return value;
  const copyOf = (source: object) => Array.isArray(source) ? [] : {};
  const root = copyOf(value);
  const stack: [object, object, number][] = [[value, root, 1]];
  while (stack.length > 0) {
    const [source, target, depth] = stack.pop()!;
    const isArray = Array.isArray(source);
    for (const [key, item] of Object.entries(source)) {
      let copy: unknown = item;
      if (typeof item === "string") copy = fn(item);
      else if (item !== null && typeof item === "object") {
        if (depth >= maxDepth) copy = options.tooDeep;
        else {
          copy = copyOf(item);
          stack.push([item, copy as object, depth + 1]);
        }
      }
      Object.defineProperty(target, isArray ? key : fn(key), {
        value: copy,
        enumerable: true,
        writable: true,
        configurable: true,
      });
    }
  }
  return root;
}
