/** Encodes batches of rows as JSON / JSON Lines / CSV text and uploads it with bounded memory. */
import { type Connection, s3Error } from "./_s3_client.ts";
import { csvNeedsQuotes, jsonReplacer, type S3Format } from "./_s3_format.ts";
import { ConnectorError, type Row } from "./types.ts";

/** S3's smallest allowed part (all parts but the last). */
export const MIN_PART_SIZE = 5 * 1024 * 1024;

export interface EncodeSettings {
  target: string;
  format: S3Format;
  delimiter: string;
  /** CSV header; by default the columns of the first batch. */
  columns: string[] | undefined;
}

/** Text chunks of the object, one or more per batch; `counter.rows` counts rows encoded. */
export async function* encodeRows(
  source: AsyncIterable<Row[]>,
  s: EncodeSettings,
  counter: { rows: number },
): AsyncIterable<string> {
  if (s.format === "csv") {
    yield* encodeCsv(source, s, counter);
    return;
  }
  const json = s.format === "json";
  for await (const batch of source) {
    const lines = batch.map((row) => JSON.stringify(row, jsonReplacer));
    if (json) yield (counter.rows === 0 ? "[\n" : ",\n") + lines.join(",\n");
    else yield lines.join("\n") + "\n";
    counter.rows += batch.length;
  }
  if (json) yield counter.rows === 0 ? "[]\n" : "\n]\n";
}

async function* encodeCsv(
  source: AsyncIterable<Row[]>,
  s: EncodeSettings,
  counter: { rows: number },
): AsyncIterable<string> {
  const { stringify } = await import("./_s3_csv.ts");
  let columns = s.columns;
  let known: Set<string> | undefined;
  for await (const batch of source) {
    const header = columns ??= [...new Set(batch.flatMap((row) => Object.keys(row)))];
    const allowed = known ??= new Set(header);
    batch.forEach((row, i) => {
      for (const name of Object.keys(row)) {
        if (allowed.has(name)) continue;
        throw new ConnectorError(
          `s3: row ${counter.rows + i + 1} written to ${s.target} has column "${name}", which is ` +
            `not in the CSV header (${header.join(", ")}); pass columns, or give the first ` +
            `batch every column`,
        );
      }
    });
    yield stringify(batch, {
      header: counter.rows === 0,
      columns: header,
      delimiter: s.delimiter,
      record_delimiter: "unix",
      cast: {
        // Strings that csvTypes would read back as something else ("42", "true", "") are quoted.
        string: (v) => csvNeedsQuotes(v) ? { value: v, quoted: true, quoted_empty: true } : v,
        boolean: (v) => (v ? "true" : "false"),
        date: (v) => v.toISOString(),
        bigint: (v) => v.toString(),
        object: (v) => JSON.stringify(v, jsonReplacer),
      },
    });
    counter.rows += batch.length;
  }
  // No rows but a known header: still write the header line.
  if (counter.rows === 0 && columns !== undefined && columns.length > 0) {
    yield stringify([], {
      header: true,
      columns,
      delimiter: s.delimiter,
      record_delimiter: "unix",
    });
  }
}

export interface UploadSettings {
  bucket: string;
  key: string;
  target: string;
  contentType: string;
  /** Bytes buffered before a multipart part is sent; at least {@link MIN_PART_SIZE}. */
  partSize: number;
  /** Refuse to overwrite an existing object (conditional write, `If-None-Match: *`). */
  createOnly: boolean;
}

/**
 * Uploads text chunks as one object. Up to `partSize` bytes are buffered: a body that stays
 * under it is one PutObject, a larger one becomes a multipart upload, aborted on failure.
 */
export async function upload(
  { sdk, client }: Connection,
  chunks: AsyncIterable<string>,
  s: UploadSettings,
): Promise<void> {
  const encoder = new TextEncoder();
  const where = { Bucket: s.bucket, Key: s.key };
  const ifNoneMatch = s.createOnly ? { IfNoneMatch: "*" } : {};
  let buffered: Uint8Array[] = [];
  let size = 0;
  let uploadId: string | undefined;
  const parts: { ETag: string | undefined; PartNumber: number }[] = [];

  /** Runs one request, naming it and the object in any error. */
  const call = async <T>(action: string, fn: () => Promise<T>): Promise<T> => {
    try {
      return await fn();
    } catch (err) {
      throw s3Error(action, s.target, err);
    }
  };
  /** Everything buffered, as one body; empties the buffer. */
  const take = (): Uint8Array => {
    const body = new Uint8Array(size);
    let offset = 0;
    for (const b of buffered) {
      body.set(b, offset);
      offset += b.length;
    }
    buffered = [];
    size = 0;
    return body;
  };
  const sendPart = async () => {
    if (uploadId === undefined) {
      const created: { UploadId?: string } = await call("CreateMultipartUpload", () =>
        client.send(
          new sdk.CreateMultipartUploadCommand({ ...where, ContentType: s.contentType }),
        ));
      uploadId = created.UploadId;
    }
    const PartNumber = parts.length + 1;
    const part = new sdk.UploadPartCommand({
      ...where,
      UploadId: uploadId,
      PartNumber,
      Body: take(),
    });
    const res: { ETag?: string } = await call("UploadPart", () => client.send(part));
    parts.push({ ETag: res.ETag, PartNumber });
  };

  try {
    for await (const chunk of chunks) {
      if (chunk.length === 0) continue;
      const bytes = encoder.encode(chunk);
      buffered.push(bytes);
      size += bytes.length;
      if (size >= s.partSize) await sendPart();
    }
    if (uploadId === undefined) {
      await call("PutObject", () =>
        client.send(
          new sdk.PutObjectCommand({
            ...where,
            ...ifNoneMatch,
            ContentType: s.contentType,
            Body: take(),
          }),
        ));
      return;
    }
    if (size > 0) await sendPart();
    await call("CompleteMultipartUpload", () =>
      client.send(
        new sdk.CompleteMultipartUploadCommand({
          ...where,
          ...ifNoneMatch,
          UploadId: uploadId,
          MultipartUpload: { Parts: parts },
        }),
      ));
  } catch (err) {
    if (uploadId !== undefined) {
      // Best effort: an unfinished upload keeps its parts (and their cost) until aborted.
      await client.send(new sdk.AbortMultipartUploadCommand({ ...where, UploadId: uploadId }))
        .catch(() => {});
    }
    throw err;
  }
}
