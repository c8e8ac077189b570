/**
 * One HTTP/1.1 exchange over a plain TCP connection: how the CLI asks the local daemon (the
 * http address in taud.json). fetch would cost every such command ~15 ms more at start: its
 * first call loads Deno's web streams and builds an HTTP client that reads the system's CA
 * certificates, even for plain http.
 */

export interface DirectResponse {
  status: number;
  ok: boolean;
  text(): Promise<string>;
}

const encoder = new TextEncoder();
const decoder = new TextDecoder();

/** Whether the environment asks fetch to use an HTTP proxy (then only fetch may be used). */
export function proxied(): boolean {
  return ["HTTP_PROXY", "http_proxy", "ALL_PROXY", "all_proxy"].some((n) => Deno.env.get(n));
}

/**
 * Sends the request and reads the whole response. Null when nothing was sent (no connection,
 * or a GET that failed on the way: the caller asks again with fetch, whose error says why);
 * throws when a request other than a GET may have reached the daemon and the exchange failed.
 */
export async function requestDirect(
  url: URL,
  method: string,
  headers: Record<string, string>,
  body?: string,
): Promise<DirectResponse | null> {
  let conn: Deno.TcpConn;
  try {
    conn = await Deno.connect({ hostname: url.hostname.replace(/^\[|\]$/g, ""), port: port(url) });
  } catch {
    return null;
  }
  try {
    const payload = body === undefined ? undefined : encoder.encode(body);
    const lines = [
      `${method} ${url.pathname}${url.search} HTTP/1.1`,
      `host: ${url.host}`,
      "accept: */*",
      `user-agent: Deno/${Deno.version.deno}`,
      "connection: close",
      ...Object.entries(headers).map(([name, value]) => `${name}: ${value}`),
      ...(payload || method !== "GET" ? [`content-length: ${payload?.length ?? 0}`] : []),
    ];
    await writeAll(conn, encoder.encode(lines.join("\r\n") + "\r\n\r\n"));
    if (payload) await writeAll(conn, payload);
    const response = parse(await readAll(conn));
    return { ...response, text: () => Promise.resolve(decoder.decode(response.body)) };
  } catch (err) {
    if (method === "GET") return null;
    throw err;
  } finally {
    try {
      conn.close();
    } catch {
      // closed already
    }
  }
}

function port(url: URL): number {
  return url.port ? Number(url.port) : 80;
}

async function writeAll(conn: Deno.Conn, bytes: Uint8Array): Promise<void> {
  for (let done = 0; done < bytes.length;) done += await conn.write(bytes.subarray(done));
}

/** Everything the server sends until it closes the connection (it was asked to). */
async function readAll(conn: Deno.Conn): Promise<Uint8Array> {
  const chunks: Uint8Array[] = [];
  const buffer = new Uint8Array(64 * 1024);
  let length = 0;
  for (let n; (n = await conn.read(buffer)) !== null;) {
    chunks.push(buffer.slice(0, n));
    length += n;
  }
  const all = new Uint8Array(length);
  let at = 0;
  for (const chunk of chunks) {
    all.set(chunk, at);
    at += chunk.length;
  }
  return all;
}

/** Status and body of a response (by its Content-Length, chunked, or up to the close). */
function parse(bytes: Uint8Array): { status: number; ok: boolean; body: Uint8Array } {
  const end = indexOf(bytes, [13, 10, 13, 10], 0);
  if (end < 0) throw new Error("the connection closed before a whole HTTP response came");
  const [statusLine, ...fields] = decoder.decode(bytes.subarray(0, end)).split("\r\n");
  const status = Number(/^HTTP\/1\.[01] (\d{3})/.exec(statusLine ?? "")?.[1]);
  if (!status) throw new Error(`not an HTTP response: ${statusLine}`);
  const header = (name: string) => {
    const field = fields.find((f) => f.slice(0, f.indexOf(":")).trim().toLowerCase() === name);
    return field?.slice(field.indexOf(":") + 1).trim();
  };
  let body = bytes.subarray(end + 4);
  if (header("transfer-encoding")?.toLowerCase().includes("chunked")) body = unchunk(body);
  else if (header("content-length") !== undefined) {
    const length = Number(header("content-length"));
    if (!(length <= body.length)) throw new Error("the connection closed inside the body");
    body = body.subarray(0, length);
  }
  return { status, ok: status >= 200 && status < 300, body };
}

/** The body of a chunked transfer encoding. */
function unchunk(bytes: Uint8Array): Uint8Array {
  const parts: Uint8Array[] = [];
  let at = 0;
  for (;;) {
    const lineEnd = indexOf(bytes, [13, 10], at);
    if (lineEnd < 0) throw new Error("the connection closed inside a chunked body");
    const size = parseInt(decoder.decode(bytes.subarray(at, lineEnd)).split(";")[0]!, 16);
    if (Number.isNaN(size)) throw new Error("a chunked body with a malformed chunk size");
    if (size === 0) break;
    const start = lineEnd + 2;
    if (start + size > bytes.length) throw new Error("the connection closed inside a chunk");
    parts.push(bytes.subarray(start, start + size));
    at = start + size + 2;
  }
  const body = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let offset = 0;
  for (const part of parts) {
    body.set(part, offset);
    offset += part.length;
  }
  return body;
}

function indexOf(bytes: Uint8Array, pattern: number[], from: number): number {
  outer: for (let i = from; i <= bytes.length - pattern.length; i++) {
    for (let j = 0; j < pattern.length; j++) if (bytes[i + j] !== pattern[j]) continue outer;
    return i;
  }
  return -1;
}
