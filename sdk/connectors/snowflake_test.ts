import { assert, assertEquals, assertMatch } from "../../tests/helpers/assert.ts";
import { snowflake, type SnowflakeOptions } from "./snowflake.ts";
import {
  json,
  pem,
  rsaKeyPair,
  type Seen,
  standIn,
  verifyJwt,
} from "../../tests/helpers/http_standin.ts";
import { SchemaChangeError } from "./_schema.ts";
import { ConnectorError, type Row } from "./types.ts";

const OAUTH = "oauth-stand-in-token";

async function fingerprint(publicKey: CryptoKey): Promise<string> {
  const spki = new Uint8Array(await crypto.subtle.exportKey("spki", publicKey));
  const digest = new Uint8Array(await crypto.subtle.digest("SHA-256", spki));
  return btoa(String.fromCharCode(...digest));
}

type Answer = (seen: Seen, body: Record<string, unknown>) => Response | undefined;

/**
 * A stand-in for the SQL API: checks the key-pair JWT (signature with `publicKey`, `iss` with
 * the key's fingerprint, `sub`, lifetime) or the OAuth token, then answers with `answer`.
 */
async function sqlApi(publicKey: CryptoKey | null, answer: Answer) {
  const fp = publicKey ? await fingerprint(publicKey) : "";
  const denied = (message: string) => json({ code: "390144", message }, 401);
  return standIn(async (seen) => {
    const type = seen.headers["x-snowflake-authorization-token-type"];
    const bearer = seen.headers.authorization?.replace(/^Bearer /, "") ?? "";
    if (type === "KEYPAIR_JWT") {
      try {
        const { header, claims } = await verifyJwt(bearer, publicKey!);
        assertEquals(header, { alg: "RS256", typ: "JWT" });
        assertEquals(claims.iss, `MYORG-ACCT.ETL_USER.SHA256:${fp}`);
        assertEquals(claims.sub, "MYORG-ACCT.ETL_USER");
        assertEquals((claims.exp as number) - (claims.iat as number), 3600);
        assert(Math.abs((claims.iat as number) - Date.now() / 1000) < 60);
      } catch (error) {
        return denied(`JWT token is invalid. ${error}`);
      }
    } else if (type !== "OAUTH" || bearer !== OAUTH) {
      return denied("Invalid OAuth access token.");
    }
    const body = seen.body ? JSON.parse(seen.body) : {};
    return answer(seen, body) ??
      json({
        code: "090001",
        statementHandle: "h-done",
        resultSetMetaData: { rowType: [] },
        data: [],
      });
  });
}

const BASE: Omit<SnowflakeOptions, "baseUrl"> = {
  account: "myorg-acct",
  user: "etl_user",
  warehouse: "LOAD_WH",
  database: "RAW",
  schema: "PUBLIC",
  role: "LOADER",
  name: "sf",
};

/** The statements sent (POST bodies), in order. */
function statements(requests: Seen[]): Record<string, unknown>[] {
  return requests.filter((r) => r.method === "POST").map((r) => JSON.parse(r.body));
}

const ROW_TYPE = [
  { name: "ID", type: "fixed", scale: 0 },
  { name: "BIG", type: "fixed", scale: 0 },
  { name: "PRICE", type: "fixed", scale: 2 },
  { name: "R", type: "real" },
  { name: "OK", type: "boolean" },
  { name: "D", type: "date" },
  { name: "T", type: "time", scale: 9 },
  { name: "NTZ", type: "timestamp_ntz", scale: 9 },
  { name: "LTZ", type: "timestamp_ltz", scale: 9 },
  { name: "TZ", type: "timestamp_tz", scale: 9 },
  { name: "V", type: "variant" },
  { name: "S", type: "text" },
];

Deno.test("snowflake: key-pair JWT, bindings, partitions and type conversion", async () => {
  const keys = await rsaKeyPair();
  const srv = await sqlApi(keys.publicKey, (seen) => {
    if (seen.method === "POST") {
      return json({
        code: "090001",
        statementHandle: "h-1",
        resultSetMetaData: {
          numRows: 3,
          format: "jsonv2",
          rowType: ROW_TYPE,
          partitionInfo: [{ rowCount: 1 }, { rowCount: 2 }],
        },
        data: [[
          "1",
          "12345678901234567890",
          "12.50",
          "1.5",
          "true",
          "19844",
          "3723.500000000",
          "1714557600.123456789",
          "1714557600.000000000",
          "1714557600.000000000 1980",
          '{\n  "a": 1\n}',
          "x",
        ]],
      });
    }
    return json({
      data: [
        [
          "-7",
          "0",
          "-0.05",
          "-inf",
          "false",
          "-1",
          "0.000000000",
          "-0.500000000",
          "0",
          "1714557600.250000000 1140",
          "[1,2]",
          "",
        ],
        [null, null, null, null, null, null, null, null, null, null, null, null],
      ],
    });
  });
  try {
    await using sf = snowflake({ ...BASE, privateKey: keys.pem, timeout: 60, baseUrl: srv.url });
    const batches: Row[][] = [];
    const params = [42, 1.5, "x", true, new Date("2024-05-01T10:00:00Z"), null];
    for await (
      const batch of sf.extractStream({
        query: "SELECT * FROM T WHERE A = ?",
        params,
        batchSize: 2,
      })
    ) {
      batches.push(batch);
    }
    assertEquals(batches, [
      [
        {
          ID: 1,
          BIG: "12345678901234567890",
          PRICE: "12.50",
          R: 1.5,
          OK: true,
          D: "2024-05-01",
          T: "01:02:03.500000000",
          NTZ: "2024-05-01T10:00:00.123456789",
          LTZ: "2024-05-01T10:00:00.000000000Z",
          TZ: "2024-05-01T19:00:00.000000000+09:00",
          V: { a: 1 },
          S: "x",
        },
        {
          ID: -7,
          BIG: 0,
          PRICE: "-0.05",
          R: -Infinity,
          OK: false,
          D: "1969-12-31",
          T: "00:00:00.000000000",
          NTZ: "1969-12-31T23:59:59.500000000",
          LTZ: "1970-01-01T00:00:00Z",
          TZ: "2024-05-01T05:00:00.250000000-05:00",
          V: [1, 2],
          S: "",
        },
      ],
      [Object.fromEntries(ROW_TYPE.map((c) => [c.name, null]))],
    ]);

    assertEquals(srv.requests.length, 2);
    const [post, partition] = srv.requests as [Seen, Seen];
    assertEquals([post.method, post.path, post.query], ["POST", "/api/v2/statements", {}]);
    assertEquals(post.headers["x-snowflake-authorization-token-type"], "KEYPAIR_JWT");
    assertEquals(post.headers["content-type"], "application/json");
    assertEquals(post.headers.accept, "application/json");
    assertEquals(post.headers["user-agent"], "tau/1.0");
    assertEquals(JSON.parse(post.body), {
      statement: "SELECT * FROM T WHERE A = ?",
      timeout: 60,
      database: "RAW",
      schema: "PUBLIC",
      warehouse: "LOAD_WH",
      role: "LOADER",
      bindings: {
        "1": { type: "FIXED", value: "42" },
        "2": { type: "REAL", value: "1.5" },
        "3": { type: "TEXT", value: "x" },
        "4": { type: "BOOLEAN", value: "true" },
        "5": { type: "TEXT", value: "2024-05-01T10:00:00.000Z" },
        "6": { type: "TEXT", value: null },
      },
    });
    assertEquals([partition.method, partition.path, partition.query], [
      "GET",
      "/api/v2/statements/h-1",
      {
        partition: "1",
      },
    ]);
    assertEquals(partition.headers["x-snowflake-authorization-token-type"], "KEYPAIR_JWT");
    assert(!srv.requests.some((r) => r.url.includes("eyJ")), "no token in any URL");
  } finally {
    await srv.close();
  }
});

/** PKCS#1 `RSAPrivateKey` DER: the OCTET STRING inside a PKCS#8 `PrivateKeyInfo`. */
function pkcs1Of(pkcs8: Uint8Array): Uint8Array {
  let i = 1 + (pkcs8[1]! & 0x80 ? 1 + (pkcs8[1]! & 0x7f) : 1); // outer SEQUENCE header
  i += 3 + 15; // version INTEGER 0, AlgorithmIdentifier { rsaEncryption, NULL }
  assertEquals(pkcs8[i], 0x04);
  const lengthBytes = pkcs8[i + 1]! & 0x80 ? pkcs8[i + 1]! & 0x7f : 0;
  return pkcs8.subarray(i + 2 + lengthBytes);
}

Deno.test("snowflake: a PKCS#1 key gives the same fingerprint; bad keys are refused cleanly", async () => {
  const keys = await rsaKeyPair();
  const srv = await sqlApi(keys.publicKey, () => undefined);
  try {
    const rsaPem = pem("RSA PRIVATE KEY", pkcs1Of(keys.pkcs8));
    await using sf = snowflake({ ...BASE, privateKey: rsaPem, baseUrl: srv.url });
    await sf.ping(); // the stand-in checks iss against the fingerprint of the public key
    assertEquals(statements(srv.requests)[0]?.statement, "SELECT 1");

    const other = await rsaKeyPair();
    await using wrong = snowflake({ ...BASE, privateKey: other.pem, baseUrl: srv.url });
    let error: unknown;
    try {
      await wrong.ping();
    } catch (e) {
      error = e;
    }
    assert(error instanceof ConnectorError);
    assertEquals(
      error.message,
      "sf: Snowflake error (HTTP 401, code 390144): JWT token is invalid. Error: bad JWT signature",
    );

    await using encrypted = snowflake({
      ...BASE,
      privateKey:
        "-----BEGIN ENCRYPTED PRIVATE KEY-----\nMIIB\n-----END ENCRYPTED PRIVATE KEY-----",
      baseUrl: srv.url,
    });
    try {
      await encrypted.ping();
      throw new Error("expected a failure");
    } catch (e) {
      assert(e instanceof ConnectorError);
      assertEquals(
        e.message,
        "sf: privateKey is encrypted; give the unencrypted key (openssl pkcs8 -topk8 -nocrypt -in key.p8 -out key.pem)",
      );
    }
  } finally {
    await srv.close();
  }
});

Deno.test("snowflake: OAuth token, asynchronous statements polled until done", async () => {
  let polls = 0;
  const srv = await sqlApi(null, (seen) => {
    if (seen.method === "POST") {
      return json({
        code: "333334",
        message: "Asynchronous execution in progress.",
        statementHandle: "h-async",
        statementStatusUrl: "/api/v2/statements/h-async?requestId=r-1",
      }, 202);
    }
    if (++polls < 3) {
      return json({
        code: "333334",
        statementHandle: "h-async",
        statementStatusUrl: "/api/v2/statements/h-async?requestId=r-1",
      }, 202);
    }
    return json({
      statementHandle: "h-async",
      resultSetMetaData: {
        rowType: [{ name: "N", type: "fixed", scale: 0 }],
        partitionInfo: [{ rowCount: 1 }],
      },
      data: [["3"]],
    });
  });
  try {
    await using sf = snowflake({ account: "myorg-acct", token: OAUTH, baseUrl: srv.url + "/" });
    assertEquals(await sf.extract({ query: "CALL slow()" }), [{ N: 3 }]);
    assertEquals(srv.requests.map((r) => [r.method, r.path, r.query]), [
      ["POST", "/api/v2/statements", {}],
      ["GET", "/api/v2/statements/h-async", { requestId: "r-1" }],
      ["GET", "/api/v2/statements/h-async", { requestId: "r-1" }],
      ["GET", "/api/v2/statements/h-async", { requestId: "r-1" }],
    ]);
    for (const seen of srv.requests) {
      assertEquals(seen.headers.authorization, `Bearer ${OAUTH}`);
      assertEquals(seen.headers["x-snowflake-authorization-token-type"], "OAUTH");
    }
    assertEquals(JSON.parse(srv.requests[0]!.body), { statement: "CALL slow()" });
  } finally {
    await srv.close();
  }
});

Deno.test("snowflake errors: the API's code, SQL state and message; bad options refused at once", async () => {
  const srv = await sqlApi(null, () =>
    json({
      code: "002003",
      message: "SQL compilation error:\nObject 'NOPE' does not exist or not authorized.",
      sqlState: "02000",
      statementHandle: "h-err",
    }, 422));
  try {
    await using sf = snowflake({
      account: "myorg-acct",
      token: OAUTH,
      baseUrl: srv.url,
      name: "sf",
    });
    const fail = async (run: () => Promise<unknown>) => {
      try {
        await run();
      } catch (error) {
        assert(error instanceof ConnectorError, `not a ConnectorError: ${error}`);
        assert(!error.message.includes(OAUTH));
        return error.message;
      }
      throw new Error("expected a failure");
    };
    assertEquals(
      await fail(() => sf.execute("SELECT * FROM NOPE")),
      "sf: Snowflake error (HTTP 422, code 002003, SQL state 02000): SQL compilation error:\nObject 'NOPE' does not exist or not authorized.",
    );
    assertEquals(
      await fail(() => sf.extract({ query: "SELECT :a", params: { a: 1 } })),
      "sf: Snowflake binds by position: pass params as an array for ? placeholders",
    );
    assertEquals(srv.requests.length, 1);
  } finally {
    await srv.close();
  }
  const refused = (options: Record<string, unknown>) => {
    try {
      snowflake(options as unknown as SnowflakeOptions);
    } catch (error) {
      assert(error instanceof ConnectorError);
      return error.message;
    }
    throw new Error("expected a failure");
  };
  const password = refused({ account: "a", user: "u", password: "hunter2" });
  assert(
    password.startsWith("snowflake: the Snowflake SQL API does not accept passwords"),
    password,
  );
  assert(!password.includes("hunter2"));
  assertEquals(
    refused({ account: "a", user: "u" }),
    "snowflake: no credentials: set privateKey (key-pair auth) or token",
  );
  assertEquals(refused({ account: "a", privateKey: "k" }), "snowflake: key-pair auth needs user");
  assertEquals(
    refused({ account: "a", token: "t", privateKey: "k" }),
    "snowflake: set privateKey or token, not both",
  );
  assertEquals(
    refused({ account: "a/b", token: "t" }),
    'snowflake: account is required (e.g. "myorg-myaccount")',
  );
});

const ROWS = [
  {
    ID: 1,
    NAME: "a",
    AT: new Date("2024-05-01T00:00:00Z"),
    META: { k: [1] },
    OK: true,
    SCORE: 1.5,
    DAY: "2024-05-01",
  },
  {
    ID: 2,
    NAME: "b",
    AT: new Date("2024-05-02T00:00:00Z"),
    META: null,
    OK: false,
    SCORE: 2,
    DAY: "2024-05-02",
  },
  {
    ID: 3,
    NAME: null,
    AT: "2024-05-03T00:00:00Z",
    META: [],
    OK: true,
    SCORE: 0.25,
    DAY: "2024-05-03",
  },
];
const COLUMNS =
  '("ID" NUMBER(38,0), "NAME" VARCHAR, "AT" TIMESTAMP_TZ, "META" VARIANT, "OK" BOOLEAN, "SCORE" FLOAT, "DAY" DATE)';
const NAMES = '"ID", "NAME", "AT", "META", "OK", "SCORE", "DAY"';
const SELECT =
  "SELECT $1, $2, TO_TIMESTAMP_TZ($3), PARSE_JSON($4), $5, $6, TO_DATE($7) FROM VALUES ";
const b = (type: string, value: string) => ({ type, value });
const CONTEXT = { database: "RAW", schema: "PUBLIC", warehouse: "LOAD_WH", role: "LOADER" };
const stmt = (statement: string, bindings?: Record<string, unknown>) => ({
  statement,
  ...CONTEXT,
  ...(bindings ? { bindings } : {}),
});

/** The query `load` reads the target's columns with. */
const columnsOf = (table: string, schema = "CURRENT_SCHEMA()", catalog = "") =>
  `SELECT COLUMN_NAME AS "name", DATA_TYPE AS "type", NUMERIC_PRECISION AS "p", ` +
  `NUMERIC_SCALE AS "s" FROM ${catalog}INFORMATION_SCHEMA.COLUMNS WHERE TABLE_SCHEMA = ${schema} ` +
  `AND TABLE_NAME = '${table}' ORDER BY ORDINAL_POSITION`;

async function loader(answer: Answer = () => undefined) {
  const srv = await sqlApi(null, answer);
  const sf = snowflake({ ...BASE, token: OAUTH, baseUrl: srv.url });
  return { srv, sf };
}

Deno.test("snowflake load append: transient stage, typed bindings, one INSERT … SELECT", async () => {
  const { srv, sf } = await loader();
  try {
    assertEquals((await sf.load(ROWS, { table: "RAW.PUBLIC.ORDERS", batchSize: 2 })).rows, 3);
    const stage = '"RAW"."PUBLIC"."ORDERS__tau_stage"';
    assertEquals(statements(srv.requests), [
      stmt(columnsOf("ORDERS", "'PUBLIC'", '"RAW".')),
      stmt(`CREATE TABLE IF NOT EXISTS "RAW"."PUBLIC"."ORDERS" ${COLUMNS}`),
      stmt(`CREATE OR REPLACE TRANSIENT TABLE ${stage} ${COLUMNS}`),
      stmt(
        `INSERT INTO ${stage} (${NAMES}) ${SELECT}(?, ?, ?, ?, ?, ?, ?), (?, ?, ?, NULL, ?, ?, ?)`,
        {
          "1": b("FIXED", "1"),
          "2": b("TEXT", "a"),
          "3": b("TEXT", "2024-05-01T00:00:00.000Z"),
          "4": b("TEXT", '{"k":[1]}'),
          "5": b("BOOLEAN", "true"),
          "6": b("REAL", "1.5"),
          "7": b("TEXT", "2024-05-01"),
          "8": b("FIXED", "2"),
          "9": b("TEXT", "b"),
          "10": b("TEXT", "2024-05-02T00:00:00.000Z"),
          "11": b("BOOLEAN", "false"),
          "12": b("REAL", "2"),
          "13": b("TEXT", "2024-05-02"),
        },
      ),
      stmt(`INSERT INTO ${stage} (${NAMES}) ${SELECT}(?, NULL, ?, ?, ?, ?, ?)`, {
        "1": b("FIXED", "3"),
        "2": b("TEXT", "2024-05-03T00:00:00Z"),
        "3": b("TEXT", "[]"),
        "4": b("BOOLEAN", "true"),
        "5": b("REAL", "0.25"),
        "6": b("TEXT", "2024-05-03"),
      }),
      stmt(`INSERT INTO "RAW"."PUBLIC"."ORDERS" (${NAMES}) SELECT ${NAMES} FROM ${stage}`),
      stmt(`DROP TABLE IF EXISTS ${stage}`),
    ]);
  } finally {
    await sf.close();
    await srv.close();
  }
});

Deno.test("snowflake load: a failing INSERT leaves the target untouched and drops the stage", async () => {
  let inserts = 0;
  const { srv, sf } = await loader((_, body) => {
    if (String(body.statement).startsWith('INSERT INTO "ORDERS__tau_stage"') && ++inserts === 2) {
      return json(
        { code: "100035", message: "Timestamp 'x' is not recognized", sqlState: "22007" },
        422,
      );
    }
  });
  try {
    let error: unknown;
    try {
      await sf.load(ROWS, { table: "ORDERS", batchSize: 2 });
    } catch (e) {
      error = e;
    }
    assert(error instanceof ConnectorError);
    assertEquals(
      error.message,
      "sf: Snowflake error (HTTP 422, code 100035, SQL state 22007): Timestamp 'x' is not recognized",
    );
    const sql = statements(srv.requests).map((s) => s.statement as string);
    assertEquals(sql.length, 6);
    assert(!sql.some((s) => s.startsWith('INSERT INTO "ORDERS" ')), "target never written");
    assertEquals(sql.at(-1), 'DROP TABLE IF EXISTS "ORDERS__tau_stage"');
  } finally {
    await sf.close();
    await srv.close();
  }
});

Deno.test("snowflake load replace: build t__tau_new, SWAP WITH, drop the old rows", async () => {
  const { srv, sf } = await loader();
  try {
    assertEquals((await sf.load([{ ID: 1 }], { table: "ORDERS", mode: "replace" })).rows, 1);
    assertEquals((await sf.load([], { table: "ORDERS", mode: "replace" })).rows, 0);
    assertEquals(statements(srv.requests).map((s) => [s.statement, s.bindings]), [
      [columnsOf("ORDERS"), undefined],
      ['CREATE OR REPLACE TABLE "ORDERS__tau_new" ("ID" NUMBER(38,0))', undefined],
      ['INSERT INTO "ORDERS__tau_new" ("ID") SELECT $1 FROM VALUES (?)', { "1": b("FIXED", "1") }],
      ['CREATE TABLE IF NOT EXISTS "ORDERS" ("ID" NUMBER(38,0))', undefined],
      ['ALTER TABLE "ORDERS" SWAP WITH "ORDERS__tau_new"', undefined],
      ['DROP TABLE IF EXISTS "ORDERS__tau_new"', undefined],
      ['TRUNCATE TABLE IF EXISTS "ORDERS"', undefined],
    ]);
  } finally {
    await sf.close();
    await srv.close();
  }
});

Deno.test("snowflake load upsert: duplicate check, then one MERGE", async () => {
  let duplicate = false;
  const { srv, sf } = await loader((_, body) => {
    if (String(body.statement).startsWith('SELECT "ID", "REGION"')) {
      return json({
        statementHandle: "h-dup",
        resultSetMetaData: {
          rowType: [{ name: "ID", type: "fixed", scale: 0 }, { name: "REGION", type: "text" }],
          partitionInfo: [{}],
        },
        data: duplicate ? [["7", "eu"]] : [],
      });
    }
  });
  try {
    const rows = [{ ID: 1, REGION: "eu", TOTAL: 9.5 }, { ID: 2, REGION: "us", TOTAL: 1 }];
    assertEquals(
      (await sf.load(rows, { table: "SALES", mode: "upsert", mergeKey: ["ID", "REGION"] })).rows,
      2,
    );
    assertEquals(statements(srv.requests).map((s) => s.statement), [
      columnsOf("SALES"),
      'CREATE TABLE IF NOT EXISTS "SALES" ("ID" NUMBER(38,0), "REGION" VARCHAR, "TOTAL" FLOAT)',
      'CREATE OR REPLACE TRANSIENT TABLE "SALES__tau_stage" ("ID" NUMBER(38,0), "REGION" VARCHAR, "TOTAL" FLOAT)',
      'INSERT INTO "SALES__tau_stage" ("ID", "REGION", "TOTAL") SELECT $1, $2, $3 FROM VALUES (?, ?, ?), (?, ?, ?)',
      'SELECT "ID", "REGION" FROM "SALES__tau_stage" GROUP BY "ID", "REGION" HAVING COUNT(*) > 1 LIMIT 1',
      'MERGE INTO "SALES" AS tgt USING "SALES__tau_stage" AS src ON tgt."ID" = src."ID" AND tgt."REGION" = src."REGION" ' +
      'WHEN MATCHED THEN UPDATE SET "TOTAL" = src."TOTAL" ' +
      'WHEN NOT MATCHED THEN INSERT ("ID", "REGION", "TOTAL") VALUES (src."ID", src."REGION", src."TOTAL")',
      'DROP TABLE IF EXISTS "SALES__tau_stage"',
    ]);

    // Duplicates within one batch are refused before that batch is sent.
    srv.requests.length = 0;
    let inBatch: unknown;
    try {
      await sf.load([rows[0]!, rows[0]!], {
        table: "SALES",
        mode: "upsert",
        mergeKey: ["ID", "REGION"],
      });
    } catch (e) {
      inBatch = e;
    }
    assert(inBatch instanceof ConnectorError);
    assertEquals(
      inBatch.message,
      'Cannot upsert into SALES: more than one row has ID, REGION = 1,"eu"',
    );
    assert(!statements(srv.requests).some((s) => String(s.statement).startsWith("INSERT")));

    srv.requests.length = 0;
    duplicate = true;
    let error: unknown;
    try {
      await sf.load(rows, { table: "SALES", mode: "upsert", mergeKey: ["ID", "REGION"] });
    } catch (e) {
      error = e;
    }
    assert(error instanceof ConnectorError);
    assertEquals(
      error.message,
      'Cannot upsert into SALES: more than one row has ID, REGION = 7,"eu"',
    );
    const sql = statements(srv.requests).map((s) => s.statement as string);
    assert(!sql.some((s) => s.startsWith("MERGE")), "no MERGE after duplicates");
    assertEquals(sql.at(-1), 'DROP TABLE IF EXISTS "SALES__tau_stage"');
  } finally {
    await sf.close();
    await srv.close();
  }
});

Deno.test("snowflake execute reports DML stats; close refuses later calls", async () => {
  const { srv, sf } = await loader((_, body) => {
    if (String(body.statement).startsWith("DELETE")) {
      return json({
        statementHandle: "h-del",
        resultSetMetaData: {
          rowType: [{ name: "number of rows deleted", type: "fixed", scale: 0 }],
          partitionInfo: [{}],
        },
        data: [["4"]],
        stats: { numRowsDeleted: 4 },
      });
    }
  });
  try {
    assertEquals(await sf.execute("DELETE FROM T WHERE D < ?", ["2024-01-01"]), {
      rowCount: 4,
      rows: [{ "number of rows deleted": 4 }],
    });
    assertEquals(statements(srv.requests)[0]?.bindings, { "1": b("TEXT", "2024-01-01") });
    await sf.close();
    let error: unknown;
    try {
      await sf.ping();
    } catch (e) {
      error = e;
    }
    assert(error instanceof ConnectorError);
    assertEquals(error.message, "sf: the connector is closed");
  } finally {
    await srv.close();
  }
});

Deno.test("snowflake session: a script is one multi-statement request with its bindings", async () => {
  const { srv, sf } = await loader();
  try {
    await sf.session!(async (s) => {
      await s.execute("SELECT 1");
      await s.executeScript!(["BEGIN TRANSACTION", "DELETE FROM T WHERE ID = ?", "COMMIT"], [7]);
    });
    const [single, script] = statements(srv.requests);
    assertEquals(single?.parameters, undefined);
    assertEquals(script?.statement, "BEGIN TRANSACTION;\nDELETE FROM T WHERE ID = ?;\nCOMMIT");
    assertEquals(script?.parameters, { MULTI_STATEMENT_COUNT: "3" });
    assertEquals(script?.bindings, { "1": b("FIXED", "7") });
  } finally {
    await sf.close();
    await srv.close();
  }
});

Deno.test("snowflake load across a schema change: ALTER, then a MERGE of the rows' columns only", async () => {
  const { srv, sf } = await loader((_, body) => {
    if (String(body.statement).includes("INFORMATION_SCHEMA.COLUMNS")) {
      return json({
        statementHandle: "h-cols",
        resultSetMetaData: {
          rowType: [
            { name: "name", type: "text" },
            { name: "type", type: "text" },
            { name: "p", type: "fixed", scale: 0 },
            { name: "s", type: "fixed", scale: 0 },
          ],
          partitionInfo: [{}],
        },
        data: [["ID", "NUMBER", "38", "0"], ["CUSTOMER", "TEXT", null, null], [
          "AMOUNT",
          "NUMBER",
          "38",
          "0",
        ]],
      });
    }
  });
  try {
    const rows = [{ ID: 1, CUSTOMER_NAME: "Ann", AMOUNT: 11 }];
    const loaded = await sf.load(rows, { table: "ORDERS", mode: "upsert", mergeKey: "ID" });
    assertEquals(loaded.schema_changes?.missing, ["CUSTOMER"]);
    const sql = statements(srv.requests).map((s) => s.statement);
    assertEquals(sql.slice(0, 3), [
      columnsOf("ORDERS"),
      'ALTER TABLE "ORDERS" ADD COLUMN "CUSTOMER_NAME" VARCHAR',
      'CREATE OR REPLACE TRANSIENT TABLE "ORDERS__tau_stage" ("ID" NUMBER(38,0), "CUSTOMER_NAME" VARCHAR, "AMOUNT" NUMBER(38,0))',
    ]);
    assert(sql.includes(
      'MERGE INTO "ORDERS" AS tgt USING "ORDERS__tau_stage" AS src ON tgt."ID" = src."ID" ' +
        'WHEN MATCHED THEN UPDATE SET "CUSTOMER_NAME" = src."CUSTOMER_NAME", "AMOUNT" = src."AMOUNT" ' +
        'WHEN NOT MATCHED THEN INSERT ("ID", "CUSTOMER_NAME", "AMOUNT") VALUES (src."ID", src."CUSTOMER_NAME", src."AMOUNT")',
    ));

    srv.requests.length = 0;
    let refused: unknown;
    try {
      await sf.load(rows, { table: "ORDERS", onSchemaChange: "fail" });
    } catch (e) {
      refused = e;
    }
    assert(refused instanceof SchemaChangeError);
    assertMatch(refused.message, /new column\(s\) CUSTOMER_NAME; missing column\(s\) CUSTOMER/);
    assertEquals(statements(srv.requests).length, 1, "nothing but the column query was sent");
  } finally {
    await sf.close();
    await srv.close();
  }
});
