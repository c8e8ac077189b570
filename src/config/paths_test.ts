/**
 * paths.ts makes its paths without node:path, node:os or node:url (the CLI loads it on every
 * start); these tests hold its paths to what those modules give.
 */
import { join } from "node:path";
import { homedir } from "node:os";
import { fileURLToPath } from "node:url";
import { assertEquals } from "../../tests/helpers/assert.ts";
import { resolveHome, tauPaths, versionDir } from "./paths.ts";
import { sdkDir, SOURCE_ROOT } from "../runtime/root.ts";

const HOMES = [
  "/home/ana/.tau",
  "/home/ana/.tau/",
  "/",
  "//",
  "/a//b/./c/",
  "/a/b/../c",
  "/a/b/../../..",
  "/..",
  "/../x/",
  "tau",
  "tau/",
  "./tau",
  "./",
  ".",
  "..",
  "../",
  "../../x/..",
  "a/../..",
  "a/..",
  "a/../",
  "a/./b/.",
  "...",
  "/a/.../b/..",
  ".hidden/..x/x..",
  "/tmp/with space/é",
  "",
];

Deno.test("tauPaths joins as node:path does, whatever TAU_HOME looks like", () => {
  for (const home of HOMES) {
    const paths = tauPaths(home);
    assertEquals(paths.database, join(home, "tau.db"), home);
    assertEquals(paths.stateFile, join(home, "taud.json"), home);
    assertEquals(paths.apiKey, join(home, "api_key"), home);
    assertEquals(
      versionDir(paths, "p", 3, "abcdef0123456789ff"),
      join(home, "code", "p", "v3-abcdef0123456789"),
      home,
    );
  }
});

Deno.test("resolveHome: TAU_HOME, else ~/.tau as node:os sees the home", () => {
  assertEquals(resolveHome({ get: (n) => (n === "TAU_HOME" ? "/x/y" : undefined) }), "/x/y");
  assertEquals(resolveHome({ get: () => undefined }), join(homedir(), ".tau"));
  assertEquals(resolveHome({ get: () => "" }), join(homedir(), ".tau"));
});

Deno.test("resolveHome without HOME: the home of the passwd entry, as node:os finds it", async () => {
  const script = `import { resolveHome } from ${JSON.stringify(import.meta.resolve("./paths.ts"))};
    import { homedir } from "node:os";
    console.log(JSON.stringify([resolveHome({ get: () => undefined }), homedir()]));`;
  for (const home of [undefined, ""]) {
    const env: Record<string, string> = { ...Deno.env.toObject() };
    if (home === undefined) delete env.HOME;
    else env.HOME = home;
    const out = await new Deno.Command(Deno.execPath(), {
      args: ["eval", "--quiet", "--no-config", script],
      env,
      clearEnv: true,
      stdout: "piped",
    }).output();
    const [ours, node] = JSON.parse(new TextDecoder().decode(out.stdout)) as string[];
    assertEquals(ours, join(node!, ".tau"));
  }
});

Deno.test("from a checkout, the SDK is node:url's path of its sdk folder", () => {
  assertEquals(SOURCE_ROOT, fileURLToPath(new URL("../../", import.meta.url)));
  assertEquals(sdkDir(), fileURLToPath(new URL("../../sdk/", import.meta.url)));
  assertEquals(tauPaths("/h").sdkDir, sdkDir());
});
