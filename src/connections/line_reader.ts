/** Newline-delimited UTF-8 text from a byte stream, with a cap on the length of one line. */

export class LineError extends Error {}

/**
 * Yields each line (without its newline). Throws {@link LineError} when a line passes
 * `maxBytes`, is not valid UTF-8, or the stream ends inside one.
 */
export async function* readLines(
  stream: ReadableStream<Uint8Array>,
  maxBytes: number,
): AsyncGenerator<string> {
  const decoder = new TextDecoder("utf-8", { fatal: true });
  let parts: Uint8Array[] = [];
  let size = 0;
  const take = (last: Uint8Array): string => {
    if (size + last.length > maxBytes) throw new LineError(`a line is over ${maxBytes} bytes`);
    parts.push(last);
    const line = new Uint8Array(size + last.length);
    let offset = 0;
    for (const part of parts) {
      line.set(part, offset);
      offset += part.length;
    }
    parts = [];
    size = 0;
    try {
      return decoder.decode(line);
    } catch {
      throw new LineError("a line is not valid UTF-8");
    }
  };
  for await (const chunk of stream) {
    let start = 0;
    for (let end = chunk.indexOf(10, start); end !== -1; end = chunk.indexOf(10, start)) {
      yield take(chunk.subarray(start, end));
      start = end + 1;
    }
    const rest = chunk.slice(start);
    size += rest.length;
    if (size > maxBytes) throw new LineError(`a line is over ${maxBytes} bytes`);
    if (rest.length > 0) parts.push(rest);
  }
  if (size > 0) throw new LineError("the stream ended inside a line");
}
