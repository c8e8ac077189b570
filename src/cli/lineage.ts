/** `tau lineage TABLE | --pipeline NAME`: tables and pipelines upstream and downstream. */
import { TauError } from "../core/errors.ts";
import type { CommandSpec } from "./spec.ts";

const enc = encodeURIComponent;

export const LINEAGE_COMMAND: CommandSpec = {
  usage: "tau lineage <table> | --pipeline <name>",
  description: "Tables and pipelines upstream and downstream of a table (or of a pipeline's " +
    "reads and writes), from the latest successful run of each pipeline, as JSON and Mermaid",
  options: { pipeline: { type: "string" } },
  async run({ client, args, flags }) {
    const pipeline = flags.pipeline;
    if (args.length > 1 || (args.length === 1) === (pipeline !== undefined) || args[0] === "") {
      throw new TauError("invalid_params", "Expected a table name or --pipeline NAME, not both", {
        hint: `usage: ${this.usage}`,
      });
    }
    const query = pipeline !== undefined
      ? `pipeline=${enc(String(pipeline))}`
      : `table=${enc(args[0]!)}`;
    return (await client()).request("GET", `/lineage?${query}`);
  },
};
