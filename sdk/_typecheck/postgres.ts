// deno-lint-ignore-file no-explicit-any
declare const postgres: any;
declare namespace postgres {
  type Options<_T = any> = any;
  type Sql<_T = any> = any;
  type TransactionSql<_T = any> = any;
  type UnsafeQueryOptions = any;
  type Row = any;
}
export default postgres;
