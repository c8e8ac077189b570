import { assert, assertEquals, assertMatch } from "../../tests/helpers/assert.ts";
import { TauError } from "../core/errors.ts";
import { sha256Hex } from "../core/ids.ts";
import type { StoredApiKey } from "../store/mod.ts";
import {
  adminKeyDigests,
  digestsEqual,
  generateApiKey,
  hashApiKey,
  parseApiKey,
  scopeAllows,
  SCOPES,
  TOUCH_INTERVAL_MS,
  verifyApiKey,
} from "./keys.ts";

/** A store holding the given keys that records its touches. */
function fakeStore(keys: StoredApiKey[]) {
  const touched: string[] = [];
  return {
    touched,
    getApiKey: (id: string) => Promise.resolve(keys.find((k) => k.id === id) ?? null),
    touchApiKey: (id: string) => {
      touched.push(id);
      return Promise.resolve();
    },
  };
}

function stored(overrides: Partial<StoredApiKey> = {}) {
  const { id, key, hash } = generateApiKey();
  const record: StoredApiKey = {
    id,
    name: null,
    scope: "read",
    hash,
    created_at: "2026-01-01T00:00:00.000Z",
    last_used_at: null,
    revoked_at: null,
    ...overrides,
  };
  return { key, record };
}

async function refusal(promise: Promise<unknown>): Promise<TauError> {
  try {
    await promise;
  } catch (err) {
    if (err instanceof TauError) return err;
    throw err;
  }
  throw new Error("expected a TauError");
}

Deno.test("generated keys read tau_<id>_<secret> with a 256-bit secret and parse back", () => {
  const a = generateApiKey();
  const b = generateApiKey();
  assertMatch(a.key, /^tau_[0-9a-f]{12}_[A-Za-z0-9_-]{43}$/);
  assert(a.key !== b.key && a.id !== b.id);
  assertEquals(parseApiKey(a.key), { id: a.id });
  assertEquals(a.hash, sha256Hex(a.key));
  assertEquals(a.hash, hashApiKey(a.key));
});

Deno.test("parseApiKey refuses anything but the stored-key format", () => {
  for (
    const key of [
      "tau_sk_" + "ab".repeat(24), // the local key file's format: checked as an admin digest
      "tau_0123456789ab_short",
      "tau_0123456789AB_" + "a".repeat(43),
      "xau_0123456789ab_" + "a".repeat(43),
      "tau_0123456789ab_" + "a".repeat(42) + "!",
      "",
    ]
  ) {
    assertEquals(parseApiKey(key), null, key);
  }
  assertEquals(parseApiKey("tau_0123456789ab_" + "a_-".repeat(15)), { id: "0123456789ab" });
});

Deno.test("each scope includes the ones before it", () => {
  assertEquals(SCOPES, ["read", "operate", "admin"]);
  const allowed = SCOPES.flatMap((have) =>
    SCOPES.filter((need) => scopeAllows(have, need)).map((need) => `${have}>=${need}`)
  );
  assertEquals(allowed, [
    "read>=read",
    "operate>=read",
    "operate>=operate",
    "admin>=read",
    "admin>=operate",
    "admin>=admin",
  ]);
});

Deno.test("digestsEqual compares whole digests, whatever their length", () => {
  assert(digestsEqual("ab".repeat(32), "ab".repeat(32)));
  assert(!digestsEqual("ab".repeat(32), "ab".repeat(31) + "ac"));
  assert(!digestsEqual("ab".repeat(32), "ab"));
});

Deno.test("verifyApiKey: admin keys by digest, stored keys by id and digest", async () => {
  const { key, record } = stored({ scope: "operate" });
  const store = fakeStore([record]);
  const adminDigests = adminKeyDigests(["local-admin-key-123", undefined, ""]);
  assertEquals(adminDigests.length, 1);
  assertEquals(await verifyApiKey("local-admin-key-123", { store, adminDigests }), {
    id: null,
    scope: "admin",
  });
  assertEquals(await verifyApiKey(key, { store, adminDigests }), {
    id: record.id,
    scope: "operate",
  });

  const forged = `tau_${record.id}_${"A".repeat(43)}`;
  for (const wrong of [forged, "local-admin-key-124", generateApiKey().key]) {
    const err = await refusal(verifyApiKey(wrong, { store, adminDigests }));
    assertEquals([err.code, err.message], ["unauthorized", "Invalid API key"]);
  }
});

Deno.test("verifyApiKey refuses a revoked key, saying so only to its holder", async () => {
  const { key, record } = stored({ revoked_at: "2026-01-02T00:00:00.000Z" });
  const store = fakeStore([record]);
  const err = await refusal(verifyApiKey(key, { store, adminDigests: [] }));
  assertEquals(err.code, "unauthorized");
  assertMatch(err.message, /was revoked/);
  const forged = await refusal(
    verifyApiKey(`tau_${record.id}_${"A".repeat(43)}`, { store, adminDigests: [] }),
  );
  assertEquals(forged.message, "Invalid API key");
  assertEquals(store.touched, []);
});

Deno.test("verifyApiKey records a use at most once per interval", async () => {
  const now = new Date("2026-01-01T12:00:00.000Z");
  const recent = new Date(now.getTime() - TOUCH_INTERVAL_MS + 1000).toISOString();
  const old = new Date(now.getTime() - TOUCH_INTERVAL_MS).toISOString();
  const fresh = stored({ last_used_at: recent });
  const stale = stored({ last_used_at: old });
  const never = stored();
  const store = fakeStore([fresh.record, stale.record, never.record]);
  for (const k of [fresh, stale, never]) {
    await verifyApiKey(k.key, { store, adminDigests: [], now });
  }
  assertEquals(store.touched, [stale.record.id, never.record.id]);
});
