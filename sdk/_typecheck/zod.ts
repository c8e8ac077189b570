// deno-lint-ignore-file no-explicit-any
declare const z: any;
declare namespace z {
  type output<_T = any> = any;
  type infer<_T = any> = any;
}
export { z };
