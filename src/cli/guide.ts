/** `tau guide`: the guide for agents, as markdown (or `{ "guide" }` with --json). */
import { TauError } from "../core/errors.ts";
import type { CommandSpec } from "./spec.ts";
import { RawText } from "./raw_text.ts";

export const GUIDE_COMMAND: CommandSpec = {
  usage: "tau guide [--json]",
  description: "The guide for agents, as markdown: the loop, the pipeline file and ctx API, " +
    "the sandbox's rules, every command, every error and what to do about it (needs no daemon)",
  options: { json: { type: "boolean" } },
  async run({ args, flags, commands }) {
    if (args.length > 0) {
      throw new TauError("invalid_params", "Unexpected argument", { hint: `usage: ${this.usage}` });
    }
    // The guide's sections are loaded only by this command (by a URL built at run time: see
    // main.ts).
    const { agentGuide }: typeof import("../guide/mod.ts") = await import(
      new URL("../guide/mod.ts", import.meta.url).href
    );
    const guide = await agentGuide(commands);
    return flags.json ? { guide } : new RawText(guide);
  },
};
