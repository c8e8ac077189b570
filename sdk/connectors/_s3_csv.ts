/** CSV parser and writer, loaded only when a CSV object is read or written. */
// @ts-types="./_s3_csv.d.ts"
export { parse } from "csv-parse/stream";
// @ts-types="./_s3_csv.d.ts"
export { stringify } from "csv-stringify/sync";
