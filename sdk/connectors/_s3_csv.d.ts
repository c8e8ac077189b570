/**
 * The slice of csv-parse / csv-stringify the s3 connector uses. Their own typings pull in
 * `@types/node` (`/// <reference types="node" />`), which changes `node:assert` types for every
 * file checked alongside; these declarations keep the connector's graph free of it.
 */

/** Field context given to `cast` while parsing. */
export interface ParseField {
  /** True for the header row's cells. */
  header: boolean;
  /** True when the field was quoted. */
  quoting: boolean;
}

export interface ParseOptions {
  columns: true;
  bom: boolean;
  delimiter: string;
  skip_empty_lines: boolean;
  cast: false | ((value: string, field: ParseField) => unknown);
}

/** csv-parse/stream: bytes in, one object per record out. */
export declare function parse(
  options: ParseOptions,
): TransformStream<Uint8Array, Record<string, unknown>>;

/** What a stringify `cast` function may return instead of the text. */
export interface CastResult {
  value: string;
  quoted?: boolean;
  quoted_empty?: boolean;
}

export interface StringifyOptions {
  header: boolean;
  columns: string[];
  delimiter: string;
  record_delimiter: "unix";
  cast?: {
    string?: (value: string) => string | CastResult;
    boolean?: (value: boolean) => string;
    date?: (value: Date) => string;
    bigint?: (value: bigint) => string;
    object?: (value: Record<string, unknown>) => string;
  };
}

/** csv-stringify/sync: records to CSV text. */
export declare function stringify(
  records: Record<string, unknown>[],
  options: StringifyOptions,
): string;
