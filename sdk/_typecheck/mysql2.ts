// deno-lint-ignore-file no-explicit-any
export type Pool = any;
export type PoolConnection = any;
export type ResultSetHeader = any;
export declare const createPool: any;
export declare const createConnection: any;
declare const mysql: any;
export default mysql;
