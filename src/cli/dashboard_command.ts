/** `tau dashboard`: the web dashboard's URL, opened in a browser when run in a terminal. */
import { TauError } from "../core/errors.ts";
import type { CommandSpec } from "./spec.ts";

/** Starts the desktop's browser on `url`; false when there is none to start. */
async function openBrowser(url: string): Promise<boolean> {
  const opener = Deno.build.os === "darwin" ? "open" : "xdg-open";
  try {
    const child = new Deno.Command(opener, {
      args: [url],
      stdin: "null",
      stdout: "null",
      stderr: "null",
    }).spawn();
    return (await child.status).success;
  } catch {
    return false;
  }
}

export const DASHBOARD_COMMAND: CommandSpec = {
  usage: "tau dashboard",
  description: "The web dashboard's URL (log in with an API key); opened in a browser when " +
    "the command runs in a terminal",
  async run({ args, client }) {
    if (args.length > 0) {
      throw new TauError("invalid_params", "Unexpected argument", { hint: `usage: ${this.usage}` });
    }
    const c = await client();
    const status = await c.request("GET", "/status") as { dashboard?: { port: number } | null };
    if (!status.dashboard) {
      throw new TauError("not_found", "This daemon serves no dashboard", {
        hint: "set [dashboard] enabled = true in its tau.toml and restart it (taud stop; taud); " +
          "only a daemon with the api role serves one",
      });
    }
    const url = new URL(c.baseUrl);
    url.port = String(status.dashboard.port);
    url.pathname = "/";
    url.search = "";
    const opened = Deno.stdout.isTerminal() ? await openBrowser(url.href) : false;
    return { url: url.href, opened };
  },
};
