import { createHash } from "node:crypto";
import { dirname, join } from "node:path";
import { assert, assertEquals } from "../../tests/helpers/assert.ts";
import { TauError } from "../core/errors.ts";
import { extractRuntime, runtimeFiles } from "./extract.ts";

const EXTRACT_URL = new URL("./extract.ts", import.meta.url).href;
const CHECKOUT = new URL("../../", import.meta.url).pathname;
/** Every byte value, and text that is not valid UTF-8: the copy must keep bytes, not text. */
const BLOB = Uint8Array.from({ length: 512 }, (_, i) => (i * 37 + 0xc3) % 256);

async function withTemp(fn: (dir: string) => Promise<void>): Promise<void> {
  const dir = await Deno.makeTempDir({ prefix: "tau_extract_" });
  try {
    await fn(dir);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

async function write(root: string, path: string, data: string | Uint8Array): Promise<void> {
  await Deno.mkdir(dirname(join(root, path)), { recursive: true });
  if (typeof data === "string") await Deno.writeTextFile(join(root, path), data);
  else await Deno.writeFile(join(root, path), data);
}

/** A small source root shaped like a checkout; `extra` adds files (the concurrency test's bulk). */
async function fakeSource(root: string, extra = 0): Promise<void> {
  await write(root, "deno.json", '{ "imports": { "tau": "./sdk/mod.ts" } }\n');
  await write(root, "deno.lock", '{ "version": "5" }\n');
  await write(root, "sdk/mod.ts", "export const x = 1;\n");
  await write(root, "sdk/materialize/mod.ts", "export const y = 2;\n");
  await write(root, "sdk/mod_test.ts", "left out\n");
  await write(root, "sdk/view_test.tsx", "left out\n");
  await write(root, "src/a.ts", "export const a = 'ä';\n");
  await write(root, "src/deep/er/b.ts", "export const b = 3;\n");
  await write(root, "src/deep/blob.bin", BLOB);
  await write(root, "src/deep/c_test.ts", "left out\n");
  await write(root, "README.md", "not part of the runtime\n");
  for (let i = 0; i < extra; i++) {
    await write(root, `src/bulk/${i % 10}/f${i}.ts`, `// ${i}\n`.repeat(400 + i));
  }
}

const FAKE_FILES = [
  "deno.json",
  "deno.lock",
  "sdk/materialize/mod.ts",
  "sdk/mod.ts",
  "src/a.ts",
  "src/deep/blob.bin",
  "src/deep/er/b.ts",
];

function sha256(bytes: Uint8Array): string {
  return createHash("sha256").update(bytes).digest("hex");
}

/** Asserts `dir` holds byte-identical copies of `files` and a manifest naming exactly them. */
async function assertIntact(source: string, files: string[], dir: string): Promise<void> {
  const manifest = JSON.parse(await Deno.readTextFile(join(dir, "manifest.json")));
  const expected: Record<string, string> = {};
  for (const file of files) {
    const original = await Deno.readFile(join(source, file));
    assertEquals(await Deno.readFile(join(dir, file)), original, file);
    expected[file] = sha256(original);
  }
  assertEquals(manifest, { hash: dir.split("/").pop(), files: expected });
}

async function entries(dir: string): Promise<string[]> {
  const names: string[] = [];
  for await (const entry of Deno.readDir(dir)) names.push(entry.name);
  return names.sort();
}

Deno.test("runtimeFiles lists deno.json, deno.lock, sdk/ and src/ without tests, sorted", async () => {
  await withTemp(async (root) => {
    await fakeSource(root);
    assertEquals(await runtimeFiles(root), FAKE_FILES);
    await Deno.remove(join(root, "deno.lock"));
    const err = await runtimeFiles(root).then(() => null, (e) => e);
    assert(err instanceof TauError && err.code === "internal", String(err));
    assert(err.message.includes(root) && err.hint, err.message);
  });
  const own = await runtimeFiles(CHECKOUT);
  for (const file of ["deno.json", "deno.lock", "sdk/mod.ts", "src/runtime/extract.ts"]) {
    assert(own.includes(file), file);
  }
  assert(!own.some((file) => /_test\.tsx?$/.test(file)));
  assert(!own.some((file) => file.startsWith("tests/") || file === "README.md"));
});

Deno.test("extraction copies bytes, writes the manifest, and is reused untouched", async () => {
  await withTemp(async (tmp) => {
    const source = join(tmp, "source");
    const home = join(tmp, "home", "runtime");
    await fakeSource(source);
    const files = await runtimeFiles(source);
    const first = await extractRuntime(source, files, home);
    assertEquals(first.reused, false);
    assert(/^[0-9a-f]{16}$/.test(first.hash), first.hash);
    assertEquals(first.dir, join(home, first.hash));
    await assertIntact(source, files, first.dir);
    assertEquals((await Deno.stat(home)).mode! & 0o777, 0o700);
    assertEquals((await Deno.stat(first.dir)).mode! & 0o777, 0o755);
    assertEquals((await Deno.stat(join(first.dir, "src/deep/er"))).mode! & 0o777, 0o755);
    assertEquals((await Deno.stat(join(first.dir, "src/deep/blob.bin"))).mode! & 0o777, 0o644);
    assertEquals((await Deno.stat(join(first.dir, "manifest.json"))).mode! & 0o777, 0o644);

    const before = await Promise.all(
      ["manifest.json", "src/a.ts"].map(async (f) => (await Deno.stat(join(first.dir, f))).mtime),
    );
    await new Promise((resolve) => setTimeout(resolve, 20));
    const second = await extractRuntime(source, [...files].reverse(), home);
    assertEquals(second, { ...first, reused: true });
    const after = await Promise.all(
      ["manifest.json", "src/a.ts"].map(async (f) => (await Deno.stat(join(first.dir, f))).mtime),
    );
    assertEquals(after, before);
    assertEquals(await entries(home), [".lock", first.hash]);
  });
});

Deno.test("a changed source file gets its own folder beside the earlier one", async () => {
  await withTemp(async (tmp) => {
    const source = join(tmp, "source");
    const home = join(tmp, "runtime");
    await fakeSource(source);
    const files = await runtimeFiles(source);
    const first = await extractRuntime(source, files, home);
    const firstCopy = await Deno.readFile(join(first.dir, "src/deep/blob.bin"));
    const changed = BLOB.slice();
    changed[100] = changed[100]! ^ 1;
    await write(source, "src/deep/blob.bin", changed);
    const second = await extractRuntime(source, files, home);
    assert(second.hash !== first.hash && second.dir !== first.dir && !second.reused);
    await assertIntact(source, files, second.dir);
    assertEquals(await Deno.readFile(join(first.dir, "src/deep/blob.bin")), firstCopy);
    assertEquals(await entries(home), [".lock", first.hash, second.hash].sort());
    // A renamed file changes the hash too: paths are part of the bundle.
    await Deno.rename(join(source, "src/a.ts"), join(source, "src/a2.ts"));
    const renamed = await extractRuntime(source, await runtimeFiles(source), home);
    assert(renamed.hash !== second.hash);
  });
});

Deno.test("a damaged or half-written extraction is replaced, never used", async () => {
  const damages: [string, (dir: string) => Promise<void>][] = [
    ["a file edited", async (dir) => {
      const bytes = await Deno.readFile(join(dir, "src/deep/blob.bin"));
      bytes[7] = bytes[7]! ^ 0x80; // same size, same mtime resolution: only re-hashing sees it
      await Deno.writeFile(join(dir, "src/deep/blob.bin"), bytes);
    }],
    ["a file deleted", (dir) => Deno.remove(join(dir, "sdk/mod.ts"))],
    ["the manifest deleted", (dir) => Deno.remove(join(dir, "manifest.json"))],
    ["the manifest listing other files", async (dir) => {
      const manifest = JSON.parse(await Deno.readTextFile(join(dir, "manifest.json")));
      delete manifest.files["src/a.ts"];
      await Deno.writeTextFile(join(dir, "manifest.json"), JSON.stringify(manifest));
    }],
    ["the manifest garbled", (dir) => Deno.writeTextFile(join(dir, "manifest.json"), "{ half")],
  ];
  await withTemp(async (tmp) => {
    const source = join(tmp, "source");
    const home = join(tmp, "runtime");
    await fakeSource(source);
    const files = await runtimeFiles(source);
    const { dir, hash } = await extractRuntime(source, files, home);
    for (const [name, damage] of damages) {
      await damage(dir);
      const again = await extractRuntime(source, files, home);
      assertEquals(again, { dir, hash, reused: false }, name);
      await assertIntact(source, files, dir);
      assertEquals(await entries(home), [".lock", hash], name);
    }
  });
});

Deno.test("a leftover temporary folder is never used, and removed once abandoned", async () => {
  await withTemp(async (tmp) => {
    const source = join(tmp, "source");
    await fakeSource(source);
    const files = await runtimeFiles(source);
    // A complete copy, manifest included, left under a temporary name by a crash before the rename.
    const { hash, dir: elsewhere } = await extractRuntime(source, files, join(tmp, "other"));
    const home = join(tmp, "runtime");
    await Deno.mkdir(home);
    const leftover = join(home, `.extracting-${hash}-crashed`);
    await Deno.rename(elsewhere, leftover);

    const first = await extractRuntime(source, files, home);
    assertEquals(first, { dir: join(home, hash), hash, reused: false });
    await assertIntact(source, files, first.dir);
    assertEquals(await entries(home), [".extracting-" + hash + "-crashed", ".lock", hash]);

    const elevenMinutesAgo = new Date(Date.now() - 11 * 60_000);
    await Deno.utime(leftover, elevenMinutesAgo, elevenMinutesAgo);
    const second = await extractRuntime(source, files, home);
    assertEquals(second.reused, true);
    assertEquals(await entries(home), [".lock", hash]);
  });
});

Deno.test("a runtime home that cannot be written is an internal error naming it", async () => {
  await withTemp(async (tmp) => {
    const source = join(tmp, "source");
    await fakeSource(source);
    await Deno.writeTextFile(join(tmp, "file"), "");
    const home = join(tmp, "file", "runtime"); // under a regular file: refused even for root
    const err = await extractRuntime(source, await runtimeFiles(source), home).then(
      () => null,
      (e) => e,
    );
    assert(err instanceof TauError && err.code === "internal", String(err));
    assert(err.message.includes(home), err.message);
    assert(err.hint?.includes(home), err.hint);
    const bad = await extractRuntime(source, ["../escape.ts"], join(tmp, "r")).then(
      () => null,
      (e) => e,
    );
    assert(bad instanceof TauError && bad.code === "internal", String(bad));
  });
});

/** Starts `count` processes that each extract into `home` at the same moment; their results. */
async function extractAtOnce(source: string, home: string, count: number, tmp: string) {
  const barrier = await Deno.makeTempDir({ dir: tmp });
  const script = join(tmp, "extract_once.ts");
  await Deno.writeTextFile(
    script,
    `const { extractRuntime, runtimeFiles } = await import(${JSON.stringify(EXTRACT_URL)});
const [source, home, barrier] = Deno.args;
const files = await runtimeFiles(source);
await Deno.writeTextFile(barrier + "/ready-" + crypto.randomUUID(), "");
for (;;) {
  try { await Deno.stat(barrier + "/go"); break; } catch { await new Promise((r) => setTimeout(r, 2)); }
}
console.log(JSON.stringify(await extractRuntime(source, files, home)));
`,
  );
  const children = Array.from({ length: count }, () =>
    new Deno.Command(Deno.execPath(), {
      args: ["run", "--no-config", "--allow-read", "--allow-write", script, source, home, barrier],
      cwd: tmp,
      stdout: "piped",
      stderr: "piped",
    }).spawn());
  const deadline = Date.now() + 60_000;
  while ((await entries(barrier)).length < count) {
    assert(Date.now() < deadline, "the extracting processes did not start within 60 s");
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
  await Deno.writeTextFile(join(barrier, "go"), "");
  const outputs = await Promise.all(children.map((child) => child.output()));
  const decode = (bytes: Uint8Array) => new TextDecoder().decode(bytes);
  return outputs.map((out) => {
    assert(out.success, decode(out.stderr));
    return JSON.parse(decode(out.stdout)) as { dir: string; hash: string; reused: boolean };
  });
}

Deno.test("six processes extracting at once all end with the same intact folder", async () => {
  await withTemp(async (tmp) => {
    const source = join(tmp, "source");
    const home = join(tmp, "runtime");
    await fakeSource(source, 150); // ~150 files of a few KB: a window wide enough to race in
    const files = await runtimeFiles(source);

    const fresh = await extractAtOnce(source, home, 6, tmp);
    const dir = fresh[0]!.dir;
    assert(fresh.every((r) => r.dir === dir), JSON.stringify(fresh));
    // Exactly one wrote it: once an intact folder is in place, no other start replaces it.
    assertEquals(fresh.filter((r) => !r.reused).length, 1, JSON.stringify(fresh));
    await assertIntact(source, files, dir);
    assertEquals(await entries(home), [".lock", fresh[0]!.hash]);

    // Damaged, then six starts at once again: each may find it damaged; one folder survives.
    await Deno.remove(join(dir, "src/a.ts"));
    const repaired = await extractAtOnce(source, home, 6, tmp);
    assert(repaired.every((r) => r.dir === dir), JSON.stringify(repaired));
    assertEquals(repaired.filter((r) => !r.reused).length, 1, JSON.stringify(repaired));
    await assertIntact(source, files, dir);
    assertEquals(await entries(home), [".lock", fresh[0]!.hash]);
  });
});
