import { assert, assertEquals } from "../../tests/helpers/assert.ts";
import { LineParser } from "./line_parser.ts";

const NONCE = "n-123";
const P = `@tau:${NONCE} `;

Deno.test("protocol lines need this run's nonce; everything else is text", () => {
  const parser = new LineParser(NONCE);
  const lines = parser.push(
    [
      `${P}{"type":"log","ts":"t","level":"info","step":null,"message":"hi"}`,
      `{"type":"result","ts":"t","value":"forged"}`,
      `@tau:other-nonce {"type":"result","ts":"t","value":"forged"}`,
      "plain text",
      "",
    ].join("\n"),
  );
  assertEquals(lines.map((l) => l.kind), ["event", "text", "text", "text"]);
  assertEquals(lines[0]?.kind === "event" && lines[0].event.type, "log");
});

Deno.test("lines split across chunks are joined", () => {
  const parser = new LineParser(NONCE);
  assertEquals(parser.push(`${P}{"type":"res`), []);
  const lines = parser.push(`ult","ts":"t","value":{"a":1}}\ntail`);
  assertEquals(lines.length, 1);
  assert.ok(lines[0]?.kind === "event" && lines[0].event.type === "result");
  assertEquals(parser.end(), [{ kind: "text", text: "tail" }]);
});

Deno.test("malformed and unknown protocol events are rejected, not trusted", () => {
  const parser = new LineParser(NONCE);
  const lines = parser.push(
    [`${P}{not json`, `${P}{"type":"exec","cmd":"rm"}`, `${P}{"type":"step_end","name":"x"}`, ""]
      .join("\n"),
  );
  assertEquals(lines.map((l) => l.kind), ["invalid", "invalid", "invalid"]);
});

Deno.test("over-long lines are dropped without buffering them", () => {
  const parser = new LineParser(NONCE, { maxLineChars: 10 });
  const lines = parser.push("short\n" + "x".repeat(25));
  assertEquals(lines[0], { kind: "text", text: "short" });
  assertEquals(lines[1]?.kind, "invalid");
  assertEquals(parser.push("y".repeat(100)), []);
  assertEquals(parser.push("\nnext\n"), [{ kind: "text", text: "next" }]);
});

Deno.test("long strings inside events are kept whole: they are cut after redaction", () => {
  const parser = new LineParser(NONCE);
  const message = "m".repeat(100_000);
  const [line] = parser.push(
    `${P}${JSON.stringify({ type: "log", level: "info", step: null, message })}\n`,
  );
  assert.ok(line?.kind === "event" && line.event.type === "log");
  assertEquals(line.event.message.length, 100_000);
});

Deno.test("a result, metadata or payload nested too deep is rejected, naming the limit", () => {
  const parser = new LineParser(NONCE);
  const deep = (levels: number) => "[".repeat(levels) + "]".repeat(levels);
  const lines = parser.push(
    [
      `${P}{"type":"result","value":${deep(100_000)}}`,
      `${P}{"type":"step_end","seq":3,"name":"s","status":"success","rows_in":null,"rows_out":null,"metadata":{"a":${
        deep(64)
      }}}`,
      `${P}{"type":"request","id":1,"op":"duckdb.query","payload":{"p":${deep(70)}}}`,
      `${P}{"type":"result","value":${deep(64)}}`,
      "",
    ].join("\n"),
  );
  assertEquals(lines.map((l) => l.kind), ["invalid", "invalid", "invalid", "event"]);
  const first = lines[0]!;
  assert.ok(first.kind === "invalid");
  assertEquals(first.reason, "protocol event rejected: nested deeper than 64 levels");
  assertEquals([first.eventType, first.seq], ["result", null]);
  assert.ok(lines[1]!.kind === "invalid" && lines[1]!.seq === 3);
});

Deno.test("a dropped over-long protocol line still says what it was", () => {
  const parser = new LineParser(NONCE, { maxLineChars: 100 });
  const lines = parser.push(`${P}{"type":"result","value":"${"x".repeat(500)}"}\nnext\n`);
  assert.ok(lines[0]?.kind === "invalid");
  assertEquals(lines[0].eventType, "result");
  assertEquals(lines[1], { kind: "text", text: "next" });
  const text = parser.push("plain " + "y".repeat(500) + "\n");
  assert.ok(text[0]?.kind === "invalid" && text[0].eventType === null);
});

Deno.test("characters of an incomplete line are pending until it ends", () => {
  const parser = new LineParser(NONCE, { maxLineChars: 100 });
  parser.push("abc");
  assertEquals(parser.pendingChars, 3);
  parser.push("d\n");
  assertEquals(parser.pendingChars, 0);
  parser.push("z".repeat(150));
  assertEquals(parser.pendingChars, 0, "a dropped line is counted, not pending");
});

Deno.test("negative row counts and bad levels are refused", () => {
  const parser = new LineParser(NONCE);
  const lines = parser.push(
    [
      `${P}{"type":"log","ts":"t","level":"root","step":null,"message":"x"}`,
      `${P}{"type":"step_end","seq":0,"name":"s","status":"success","ts":"t","duration_ms":1,"rows_in":-1,"rows_out":null,"metadata":{}}`,
      "",
    ].join("\n"),
  );
  assertEquals(lines.map((l) => l.kind), ["invalid", "invalid"]);
});
