import { assertEquals } from "../../tests/helpers/assert.ts";
import {
  canonicalIp,
  checkGrantedHosts,
  exactHostPort,
  forbiddenAddress,
  neverAllowed,
} from "./network.ts";

const daemon = { ports: [8400] };

Deno.test("grants are exact host:port; a bare host means 443", () => {
  assertEquals(
    ["api.example.com", "db:5432", "[2001:db8::1]", "[2001:db8::1]:8080", "10.0.0.1"].map(
      exactHostPort,
    ),
    ["api.example.com:443", "db:5432", "[2001:db8::1]:443", "[2001:db8::1]:8080", "10.0.0.1:443"],
  );
});

Deno.test("link-local and metadata addresses are forbidden on every port", () => {
  for (const address of ["169.254.169.254", "169.254.1.1", "fe80::1", "[fd00:ec2::254]"]) {
    assertEquals(forbiddenAddress(address, 80, daemon), "a link-local / cloud metadata address");
  }
  assertEquals(forbiddenAddress("::ffff:169.254.169.254", 80, daemon) !== null, true);
});

Deno.test("loopback is forbidden only on the daemon's port", () => {
  const spellings = [
    "127.0.0.1",
    "127.0.0.2",
    "0.0.0.0",
    "::1",
    "[0:0:0:0:0:0:0:1]",
    "0::1",
    "::",
    "::ffff:127.0.0.1",
    "[::ffff:7f00:1]",
  ];
  for (const address of spellings) {
    assertEquals(forbiddenAddress(address, 8400, daemon), "the Tau daemon's own port", address);
    assertEquals(forbiddenAddress(address, 5432, daemon), null, address);
  }
  assertEquals(forbiddenAddress("10.1.2.3", 8400, daemon), null);
  // Every port the daemon listens on (its dashboard's too), and only those.
  const both = { ports: [8400, 8401] };
  for (const address of spellings) {
    assertEquals(forbiddenAddress(address, 8401, both), "the Tau daemon's own port", address);
    assertEquals(forbiddenAddress(address, 8402, both), null, address);
  }
  assertEquals(neverAllowed("localhost:8401", both), "the Tau daemon's own port");
});

Deno.test("a daemon bound to an interface address is denied there too", () => {
  const bound = { ports: [8400], addresses: ["192.0.2.2", "2001:db8::2"] };
  assertEquals(forbiddenAddress("192.0.2.2", 8400, bound), "the Tau daemon's own port");
  assertEquals(forbiddenAddress("[2001:db8:0::2]", 8400, bound), "the Tau daemon's own port");
  assertEquals(forbiddenAddress("192.0.2.2", 443, bound), null);
  assertEquals(canonicalIp("::ffff:c000:202"), "192.0.2.2");
});

Deno.test("a granted name resolving to a forbidden address is refused before the run", async () => {
  const dns: Record<string, string[]> = {
    "rebind.example": ["93.184.216.34", "127.0.0.1"],
    "meta.example": ["169.254.169.254"],
    "ok.example": ["10.0.0.5"],
  };
  const resolve = (host: string) =>
    dns[host] ? Promise.resolve(dns[host]) : Promise.reject(new Error("NXDOMAIN"));
  assertEquals(
    await checkGrantedHosts(["ok.example:443", "gone.example:443"], daemon, resolve),
    null,
  );
  assertEquals(await checkGrantedHosts(["rebind.example:8400"], daemon, resolve), {
    target: "rebind.example:8400",
    address: "127.0.0.1",
    reason: "the Tau daemon's own port",
  });
  assertEquals(await checkGrantedHosts(["rebind.example:5432"], daemon, resolve), null);
  assertEquals(
    (await checkGrantedHosts(["meta.example:80"], daemon, resolve))?.address,
    "169.254.169.254",
  );
  // The real resolver: /etc/hosts maps localhost to loopback.
  assertEquals(
    (await checkGrantedHosts(["localhost:8400"], daemon))?.reason,
    "the Tau daemon's own port",
  );
});

Deno.test("neverAllowed names the daemon's port and the metadata service, nothing else", () => {
  const listening = { ports: [8400], addresses: ["10.0.0.5"] };
  assertEquals(neverAllowed("127.0.0.1:8400", listening), "the Tau daemon's own port");
  assertEquals(neverAllowed("localhost:8400", listening), "the Tau daemon's own port");
  assertEquals(neverAllowed("[::1]:8400", listening), "the Tau daemon's own port");
  assertEquals(neverAllowed("10.0.0.5:8400", listening), "the Tau daemon's own port");
  assertEquals(
    neverAllowed("169.254.169.254:80", listening),
    "a link-local / cloud metadata address",
  );
  assertEquals(
    neverAllowed("metadata.google.internal:80", listening),
    "the cloud metadata service",
  );
  assertEquals(neverAllowed("127.0.0.1:5432", listening), null);
  assertEquals(neverAllowed("api.example.com:443", listening), null);
});
