// deno-lint-ignore-file no-explicit-any
export declare const parse: any;
