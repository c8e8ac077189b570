import { assert, assertEquals } from "../../tests/helpers/assert.ts";
import { openStore, type Store } from "../store/mod.ts";
import { LogWriter, type LogWriterOptions, MAX_LOG_CHARS, redactLines } from "./log_writer.ts";
import { makeRedactor } from "./redact.ts";

const SECRET = "hunter2-correct-horse";
const RUN = "run-1";

/** A fresh store on a temp file with one run, and a writer for it from seq 0. */
async function withWriter(
  options: LogWriterOptions,
  fn: (writer: LogWriter, store: Store) => Promise<void>,
): Promise<void> {
  const dir = await Deno.makeTempDir({ prefix: "tau_log_writer_test_" });
  const store = await openStore({ path: `${dir}/tau.db` });
  try {
    await store.deploy({
      name: "orders",
      code: "export default 1;",
      hash: "h1",
      filename: "orders.ts",
      source_path: "/src/orders.ts",
      schedule: null,
      metadata: {},
    });
    await store.createRun({
      run_id: RUN,
      pipeline: "orders",
      version: 1,
      trigger: "manual",
      params: {},
      max_attempts: 1,
      permissions: null,
    });
    const writer = new LogWriter(store, RUN, 1, 0, options);
    try {
      await fn(writer, store);
    } finally {
      await writer.flush();
    }
  } finally {
    await store.close();
    await Deno.remove(dir, { recursive: true });
  }
}

const redacting = (): LogWriterOptions => ({ redact: makeRedactor({ API_KEY: SECRET }) });

async function messages(store: Store): Promise<string[]> {
  const logs = await store.listLogs(RUN);
  assertEquals(logs.map((l) => l.seq), logs.map((_, i) => i), "stored in seq order, none lost");
  return logs.map((l) => l.message);
}

/** What is stored once the writer's timer has had time to fire. */
async function storedAfterTimer(store: Store): Promise<string[]> {
  await new Promise((resolve) => setTimeout(resolve, 120));
  return messages(store);
}

Deno.test("a secret split over two lines is redacted in both", async () => {
  await withWriter(redacting(), async (writer, store) => {
    writer.write("stdout", "before");
    writer.write("stdout", `token=${SECRET.slice(0, 5)}`);
    writer.write("stdout", `${SECRET.slice(5)} (that was it)`);
    writer.write("stdout", "after");
    await writer.flush();
    assertEquals(await messages(store), [
      "before",
      "token=[REDACTED:API_KEY:part]",
      "[REDACTED:API_KEY:part] (that was it)",
      "after",
    ]);
  });
});

Deno.test("a secret printed one character per line is redacted in every line", async () => {
  await withWriter(redacting(), async (writer, store) => {
    for (const char of SECRET) writer.write("stdout", char);
    writer.write("stdout", "done");
    await writer.flush();
    assertEquals(await messages(store), [
      ...[...SECRET].map(() => "[REDACTED:API_KEY:part]"),
      "done",
    ]);
  });
});

Deno.test("a secret split across a stdout line and a log event keeps each line's fields", async () => {
  await withWriter(redacting(), async (writer, store) => {
    writer.write("stdout", `key: ${SECRET.slice(0, 9)}`);
    const before = Date.now();
    writer.write("info", `${SECRET.slice(9)}, loading`, "load");
    await writer.flush();
    const logs = await store.listLogs(RUN);
    assertEquals(
      logs.map(({ seq, level, step, message }) => ({ seq, level, step, message })),
      [
        { seq: 0, level: "stdout", step: null, message: "key: [REDACTED:API_KEY:part]" },
        { seq: 1, level: "info", step: "load", message: "[REDACTED:API_KEY:part], loading" },
      ],
    );
    // Stamped by the writer, never with a time the run supplied.
    assert.ok(Date.parse(logs[1]!.ts) >= before - 1, logs[1]!.ts);
  });
});

Deno.test("an empty line inside a split secret stays empty", async () => {
  await withWriter(redacting(), async (writer, store) => {
    writer.write("stdout", SECRET.slice(0, 7));
    writer.write("stderr", "");
    writer.write("stdout", SECRET.slice(7, 12));
    writer.write("stdout", `${SECRET.slice(12)}!`);
    await writer.flush();
    assertEquals(await messages(store), [
      "[REDACTED:API_KEY:part]",
      "",
      "[REDACTED:API_KEY:part]",
      "[REDACTED:API_KEY:part]!",
    ]);
  });
});

Deno.test("an encoded secret split over lines is redacted", async () => {
  await withWriter(redacting(), async (writer, store) => {
    const encoded = btoa(SECRET);
    writer.write("stdout", `b64=${encoded.slice(0, 10)}`);
    writer.write("stdout", encoded.slice(10));
    const hex = Array.from(new TextEncoder().encode(SECRET), (b) => b.toString(16).padStart(2, "0"))
      .join("");
    writer.write("stdout", `hex=${hex.slice(0, 20)}`);
    writer.write("stdout", `${hex.slice(20)} end`);
    await writer.flush();
    assertEquals(await messages(store), [
      "b64=[REDACTED:API_KEY:part]",
      "[REDACTED:API_KEY:part]",
      "hex=[REDACTED:API_KEY:part]",
      "[REDACTED:API_KEY:part] end",
    ]);
  });
});

Deno.test("a beginning that turns out not to be a secret is stored unchanged", async () => {
  await withWriter(redacting(), async (writer, store) => {
    writer.write("stdout", "first");
    writer.write("stdout", "token=hunter2-cor");
    // Held back: the next line may complete the secret.
    assertEquals(await storedAfterTimer(store), ["first"]);
    assertEquals(writer.heldLines, 1);
    writer.write("warn", "e was a typo!");
    assertEquals(writer.heldLines, 0);
    assertEquals(await storedAfterTimer(store), ["first", "token=hunter2-cor", "e was a typo!"]);
  });
});

Deno.test("the final flush stores held lines as they are", async () => {
  await withWriter(redacting(), async (writer, store) => {
    writer.write("stdout", "token=hunt");
    writer.write("stdout", "er2-cor");
    assertEquals(await storedAfterTimer(store), []);
    assertEquals(writer.heldLines, 2);
    assertEquals(writer.nextSeq, 2);
    await writer.flush();
    assertEquals(writer.heldLines, 0);
    assertEquals(await messages(store), ["token=hunt", "er2-cor"]);
  });
});

Deno.test("lines that cannot start a secret are not held back", async () => {
  await withWriter(redacting(), async (writer, store) => {
    writer.write("stdout", "nothing to see here ");
    writer.write("info", "rows: 12;");
    assertEquals(writer.heldLines, 0);
    assertEquals(await storedAfterTimer(store), ["nothing to see here ", "rows: 12;"]);
  });
});

Deno.test("whole secrets in a line or a step name are redacted, redacted text left as is", async () => {
  await withWriter(redacting(), async (writer, store) => {
    writer.write("stdout", `a ${SECRET} b ${encodeURIComponent(SECRET)} c ${btoa(SECRET)} `);
    writer.write("stderr", "already [REDACTED:API_KEY] ");
    writer.write("info", "step named after it.", `load ${SECRET}`);
    await writer.flush();
    assertEquals(await messages(store), [
      "a [REDACTED:API_KEY] b [REDACTED:API_KEY] c [REDACTED:API_KEY] ",
      "already [REDACTED:API_KEY] ",
      "step named after it.",
    ]);
    assertEquals((await store.listLogs(RUN))[2]!.step, "load [REDACTED:API_KEY]");
  });
});

Deno.test("a secret found across lines still covers a line held for another", async () => {
  // "abcdefgh" is found over two lines, and its end "efgh" may start B: that line is held,
  // then stored without B, but with A's piece still redacted.
  const redact = makeRedactor({ A: "abcdefgh", B: "efghijkl" });
  await withWriter({ redact }, async (writer, store) => {
    writer.write("stdout", "abcd");
    writer.write("stdout", "efgh");
    assertEquals(writer.heldLines, 1);
    assertEquals(await storedAfterTimer(store), ["[REDACTED:A:part]"]);
    writer.write("stdout", "zz ");
    await writer.flush();
    assertEquals(await messages(store), ["[REDACTED:A:part]", "[REDACTED:A:part]", "zz "]);
  });
});

Deno.test("two secrets overlapping over lines are both named", async () => {
  const redact = makeRedactor({ A: "abcdefgh", B: "efghijkl" });
  await withWriter({ redact }, async (writer, store) => {
    writer.write("stdout", "<abcd");
    writer.write("stdout", "efgh");
    writer.write("stdout", "ijkl>");
    await writer.flush();
    // The first line is stored once A is found, before B is: it names A only.
    assertEquals(await messages(store), [
      "<[REDACTED:A:part]",
      "[REDACTED:A:part][REDACTED:B:part]",
      "[REDACTED:A:part][REDACTED:B:part]>",
    ]);
  });
});

Deno.test("held lines are bounded: past the limit they are stored, the secret's start redacted", async () => {
  await withWriter({ ...redacting(), maxHeldLines: 3 }, async (writer, store) => {
    writer.write("stdout", "token=hunt");
    writer.write("stdout", "");
    writer.write("stdout", "");
    assertEquals(writer.heldLines, 3);
    writer.write("stdout", "");
    assertEquals(writer.heldLines, 0);
    // The next line could have completed the secret: what may begin it counts as a piece.
    assertEquals(await storedAfterTimer(store), ["token=[REDACTED:API_KEY:part]", "", "", ""]);
    // The writer goes on working after that.
    writer.write("stdout", SECRET.slice(0, 4));
    writer.write("stdout", `${SECRET.slice(4)} `);
    await writer.flush();
    assertEquals((await messages(store)).slice(4), [
      "[REDACTED:API_KEY:part]",
      "[REDACTED:API_KEY:part] ",
    ]);
  });
});

Deno.test("without a redactor lines are stored as written, at once", async () => {
  await withWriter({}, async (writer, store) => {
    writer.write("stdout", `token=${SECRET.slice(0, 4)}`);
    writer.write("stdout", SECRET);
    assertEquals(writer.heldLines, 0);
    assertEquals(await storedAfterTimer(store), [`token=${SECRET.slice(0, 4)}`, SECRET]);
  });
});

Deno.test("redactLines redacts a list of lines as one stream", () => {
  const redact = makeRedactor({ API_KEY: SECRET });
  assertEquals(
    redactLines(redact, ["Error: bad key", `  at ${SECRET.slice(0, 3)}`, SECRET.slice(3), "end"]),
    ["Error: bad key", "  at [REDACTED:API_KEY:part]", "[REDACTED:API_KEY:part]", "end"],
  );
  assertEquals(redactLines(redact, ["token=hunt"]), ["token=hunt"]);
  assertEquals(redactLines(redact, []), []);
});

Deno.test("a multi-line secret printed whole is redacted in every line", async () => {
  const pem =
    "-----BEGIN KEY-----\nMIIEvQIBADANBgkqhkiG9w0BAQEFAASC\nBKcwggSjAgEAAoIBAQC7\n-----END KEY-----";
  await withWriter({ redact: makeRedactor({ PEM: pem }) }, async (writer, store) => {
    for (const line of `key:\n${pem}\ndone`.split("\n")) writer.write("stdout", line);
    await writer.flush();
    const stored = await messages(store);
    assertEquals(stored[0], "key:");
    assertEquals(stored.at(-1), "done");
    for (const line of pem.split("\n")) {
      assert.ok(!stored.some((m) => m.includes(line)), `${line} stored: ${JSON.stringify(stored)}`);
    }
  });
});

Deno.test("a long line is cut after redaction: a secret across the cut leaves nothing", async () => {
  await withWriter(redacting(), async (writer, store) => {
    const line = "x".repeat(MAX_LOG_CHARS - 5) + SECRET + "y".repeat(100);
    writer.write("info", line);
    await writer.flush();
    const [stored] = await messages(store);
    assert.ok(stored!.length <= MAX_LOG_CHARS, `${stored!.length}`);
    assert.ok(stored!.endsWith("…"));
    assert.ok(!stored!.includes(SECRET.slice(0, 4)), stored!.slice(-40));
  });
});

Deno.test("a NUL byte is stored escaped, the line whole", async () => {
  await withWriter({}, async (writer, store) => {
    writer.write("stdout", "before\u0000after");
    writer.write("info", "m", "step\u0000name");
    await writer.flush();
    const logs = await store.listLogs(RUN);
    assertEquals(logs.map((l) => [l.message, l.step]), [
      ["before\\u0000after", null],
      ["m", "step\\u0000name"],
    ]);
  });
});

Deno.test("a store that fails makes flush() reject, never an unhandled rejection", async () => {
  let calls = 0;
  const failing = {
    appendLogs: () => {
      calls++;
      return Promise.reject(new Error("disk I/O error"));
    },
  } as unknown as Store;
  const writer = new LogWriter(failing, RUN, 1, 0);
  writer.write("stdout", "a");
  await new Promise((resolve) => setTimeout(resolve, 120)); // the timer stores (and fails)
  writer.write("stdout", "b");
  await assert.rejects(() => writer.flush(), /disk I\/O error/);
  assertEquals(calls, 2);
});
