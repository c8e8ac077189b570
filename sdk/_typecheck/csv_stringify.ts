// deno-lint-ignore-file no-explicit-any
export declare const stringify: any;
