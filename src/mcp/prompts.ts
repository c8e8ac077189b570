/** MCP prompts that walk an agent through Tau's loop: write a pipeline, or heal one. */
import type { McpServer } from "@modelcontextprotocol/sdk/server/mcp.js";
import { z } from "zod";

const user = (text: string) => ({
  messages: [{ role: "user" as const, content: { type: "text" as const, text } }],
});

export function registerPrompts(server: McpServer): void {
  server.registerPrompt(
    "write_pipeline",
    {
      title: "Write a Tau pipeline",
      description: "From an intent to a deployed pipeline whose run succeeded",
      argsSchema: { intent: z.string().describe("what the pipeline should do") },
    },
    ({ intent }: { intent: string }) =>
      user(
        `Write a Tau pipeline that does this:\n\n${intent}\n\n` +
          "1. Read the resource tau://guide: the pipeline file, the ctx API, and the sandbox " +
          "rules (declare every host in net, every secret in secrets, every connection in " +
          "connections; nothing else is reachable). Call connections to see what exists.\n" +
          "2. Write the whole file and call check with its text. Fix every error it reports " +
          "(each has a code, a hint and a location in the file) and check again until ok.\n" +
          "3. Call deploy with the same text, then run with the pipeline's name.\n" +
          "4. If the run did not succeed, call inspect (brief: true) and heal: the diagnosis " +
          "cites its evidence and lists suggestions (declare_net, set_secret, fix_code…). Fix " +
          "the file, then check, deploy and run again.\n" +
          "5. Stop when run returns status success; report the run id and its result.",
      ),
  );
  server.registerPrompt(
    "heal_pipeline",
    {
      title: "Heal a failed Tau pipeline",
      description: "Diagnose a pipeline's failed run, fix it, and prove the fix with a run",
      argsSchema: { name: z.string().describe("the pipeline's name") },
    },
    ({ name }: { name: string }) =>
      user(
        `The Tau pipeline ${JSON.stringify(name)} failed. Fix it:\n\n` +
          `1. Call heal with name ${JSON.stringify(name)}: the diagnosis has a class, a ` +
          "summary, the location and an excerpt of the code, evidence quoted from the run, " +
          "what changed since the last success and machine-readable suggestions.\n" +
          "2. If a suggestion is rollback and the new version is at fault, call rollback and " +
          "then run; otherwise call code for the current file and make the smallest change " +
          "the diagnosis calls for. Never widen what the pipeline declares (net, secrets, " +
          "connections, limits) unless the diagnosis shows it is needed.\n" +
          "3. Call check with the whole new file; fix until ok. Then deploy, then run.\n" +
          "4. If the run fails again, call heal on the new run and repeat; the logs tool pages " +
          "through long logs. (With a model configured, heal with auto: true lets Tau propose, " +
          "check and replay a fix itself.)\n" +
          "5. Report the failing run, the cause, the change and the run that succeeded.",
      ),
  );
}
