/** Tau's version, reported by `tau version` and `tau status`. */
export const VERSION = "0.1.0";
