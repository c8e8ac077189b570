import { assert, assertEquals } from "../../tests/helpers/assert.ts";
import { blockedReason, vetUrl } from "./address.ts";

Deno.test("blockedReason: every private, loopback, link-local and mapped form is refused", () => {
  const table: [string, string | null][] = [
    ["127.0.0.1", "loopback"],
    ["127.255.255.254", "loopback"],
    ["0.0.0.0", "unspecified"],
    ["10.1.2.3", "private"],
    ["172.16.0.1", "private"],
    ["172.31.255.255", "private"],
    ["192.168.1.1", "private"],
    ["100.64.0.1", "shared (carrier-grade NAT)"],
    ["169.254.169.254", "link-local (cloud metadata)"],
    ["224.0.0.1", "multicast"],
    ["255.255.255.255", "reserved"],
    ["::1", "loopback"],
    ["::", "unspecified"],
    ["fc00::1", "private (unique local)"],
    ["fd12:3456::1", "private (unique local)"],
    ["fe80::1", "link-local"],
    ["::ffff:127.0.0.1", "loopback"],
    ["::ffff:7f00:1", "loopback"],
    ["::ffff:169.254.169.254", "link-local (cloud metadata)"],
    ["64:ff9b::10.0.0.1", "private"],
    ["[::1]", "loopback"],
    // Public ones pass.
    ["8.8.8.8", null],
    ["172.32.0.1", null],
    ["100.128.0.1", null],
    ["1.1.1.1", null],
    ["2606:4700:4700::1111", null],
    ["::ffff:8.8.8.8", null],
  ];
  for (const [ip, why] of table) assertEquals(blockedReason(ip), why, ip);
});

Deno.test("vetUrl refuses a loopback URL unless private addresses are allowed", async () => {
  await assert.rejects(
    vetUrl("http://127.0.0.1:9/hook", false),
    (e: Error & { code?: string; hint?: string }) =>
      e.code === "invalid_params" && /loopback/.test(e.message) &&
      /allow_private/.test(e.hint ?? ""),
  );
  await assert.rejects(vetUrl("http://[::ffff:10.0.0.1]/", false), /private/);
  assertEquals(await vetUrl("http://127.0.0.1:9/hook", true), ["127.0.0.1"]);
  // A name is resolved first: localhost is loopback.
  await assert.rejects(vetUrl("http://localhost:9/hook", false), /loopback/);
});
