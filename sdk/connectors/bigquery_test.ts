import { assert, assertEquals, assertMatch } from "../../tests/helpers/assert.ts";
import { bigquery } from "./bigquery.ts";
import {
  json,
  rsaKeyPair,
  type Seen,
  standIn,
  verifyJwt,
} from "../../tests/helpers/http_standin.ts";
import { SchemaChangeError } from "./_schema.ts";
import { ConnectorError, type Row } from "./types.ts";

const TOKEN = "ya29.stand-in-token";
const EMAIL = "etl@acme-data.iam.gserviceaccount.com";
const QUERIES = "/bigquery/v2/projects/acme-data/queries";
const JOB = { projectId: "acme-data", jobId: "job_1", location: "EU" };

type Answer = (seen: Seen, body: Record<string, unknown>) => Response | undefined;

/**
 * A stand-in for Google's token endpoint (checks the signed assertion with `publicKey`) and
 * the BigQuery API (checks the bearer token; `answer` gives the responses).
 */
function google(publicKey: CryptoKey | null, answer: Answer) {
  const srv = standIn(async (seen) => {
    if (seen.path === "/token") {
      const form = new URLSearchParams(seen.body);
      if (form.get("grant_type") !== "urn:ietf:params:oauth:grant-type:jwt-bearer") {
        return json({ error: "unsupported_grant_type" }, 400);
      }
      try {
        const { header, claims } = await verifyJwt(form.get("assertion") ?? "", publicKey!);
        const now = Date.now() / 1000;
        assertEquals(header, { alg: "RS256", typ: "JWT", kid: "key-1" });
        assertEquals(Object.keys(claims).sort(), ["aud", "exp", "iat", "iss", "scope"]);
        assertEquals(claims.iss, EMAIL);
        assertEquals(claims.scope, "https://www.googleapis.com/auth/bigquery");
        assertEquals(claims.aud, srv.url + "/token");
        assert(Math.abs((claims.iat as number) - now) < 60, "iat is now");
        assertEquals((claims.exp as number) - (claims.iat as number), 3600);
      } catch (error) {
        return json({ error: "invalid_grant", error_description: `Invalid JWT: ${error}` }, 400);
      }
      return json({ access_token: TOKEN, expires_in: 3599, token_type: "Bearer" });
    }
    if (seen.headers.authorization !== `Bearer ${TOKEN}`) {
      return json({
        error: {
          code: 401,
          message: "Request had invalid authentication credentials.",
          status: "UNAUTHENTICATED",
        },
      }, 401);
    }
    const body = seen.body ? JSON.parse(seen.body) : {};
    return answer(seen, body) ?? json({ jobComplete: true, jobReference: JOB });
  });
  return srv;
}

async function serviceAccount(url: string) {
  const keys = await rsaKeyPair();
  const credentials = JSON.stringify({
    type: "service_account",
    project_id: "acme-data",
    private_key_id: "key-1",
    private_key: keys.pem,
    client_email: EMAIL,
    token_uri: url + "/token",
  });
  return { keys, credentials };
}

/** The request bodies sent to jobs.query, in order. */
function jobs(requests: Seen[]): Record<string, unknown>[] {
  return requests.filter((r) => r.method === "POST" && r.path === QUERIES).map((r) =>
    JSON.parse(r.body)
  );
}

const p = (type: string, value: string | null) => ({
  parameterType: { type },
  parameterValue: { value },
});

const SCHEMA = {
  fields: [
    { name: "id", type: "INTEGER", mode: "NULLABLE" },
    { name: "big", type: "INTEGER" },
    { name: "ratio", type: "FLOAT" },
    { name: "ok", type: "BOOLEAN" },
    { name: "at", type: "TIMESTAMP" },
    { name: "price", type: "NUMERIC" },
    { name: "doc", type: "JSON" },
    {
      name: "rec",
      type: "RECORD",
      fields: [{ name: "s", type: "STRING" }, { name: "n", type: "INTEGER" }],
    },
    { name: "nums", type: "INTEGER", mode: "REPEATED" },
    { name: "day", type: "DATE" },
  ],
};
const v = (...values: unknown[]) => ({ f: values.map((value) => ({ v: value })) });

Deno.test("bigquery: service-account JWT, positional params, paging and type conversion", async () => {
  let srv: ReturnType<typeof google> | null = null;
  const { keys, credentials } = await serviceAccount("http://placeholder");
  srv = google(keys.publicKey, (seen) => {
    if (seen.method === "POST") {
      return json({
        jobComplete: true,
        jobReference: JOB,
        schema: SCHEMA,
        totalRows: "3",
        pageToken: "page-2",
        rows: [
          v(
            "5",
            "9007199254740993",
            "1.5",
            "true",
            "1714557600123456",
            "1.10",
            '{"a":[1]}',
            v("x", "2"),
            [{ v: "1" }, { v: "2" }],
            "2024-05-01",
          ),
          v(null, "-3", "NaN", "false", "-1", "0", "null", null, [], null),
        ],
      });
    }
    return json({
      jobComplete: true,
      jobReference: JOB,
      schema: SCHEMA,
      rows: [v("7", "0", "-Infinity", null, "0", null, '"s"', v(null, null), [], "1999-12-31")],
    });
  });
  try {
    await using bq = bigquery({
      project: "acme-data",
      dataset: "raw",
      location: "EU",
      credentials: credentials.replace("http://placeholder", srv.url),
      apiEndpoint: srv.url,
      name: "bq",
    });
    const params = [42, 1.5, "x", true, new Date("2024-05-01T10:00:00Z"), null, ["a", "b"], {
      k: 1,
    }];
    const batches: Row[][] = [];
    for await (
      const batch of bq.extractStream({
        query: "SELECT * FROM t WHERE a = ?",
        params,
        batchSize: 2,
      })
    ) {
      batches.push(batch);
    }
    assertEquals(batches, [
      [
        {
          id: 5,
          big: "9007199254740993",
          ratio: 1.5,
          ok: true,
          at: "2024-05-01T10:00:00.123456Z",
          price: "1.10",
          doc: { a: [1] },
          rec: { s: "x", n: 2 },
          nums: [1, 2],
          day: "2024-05-01",
        },
        {
          id: null,
          big: -3,
          ratio: NaN,
          ok: false,
          at: "1969-12-31T23:59:59.999999Z",
          price: "0",
          doc: null,
          rec: null,
          nums: [],
          day: null,
        },
      ],
      [{
        id: 7,
        big: 0,
        ratio: -Infinity,
        ok: null,
        at: "1970-01-01T00:00:00.000000Z",
        price: null,
        doc: "s",
        rec: { s: null, n: null },
        nums: [],
        day: "1999-12-31",
      }],
    ]);

    const [token, query, page] = srv.requests as [Seen, Seen, Seen];
    assertEquals(srv.requests.length, 3);
    assertEquals([token.method, token.path], ["POST", "/token"]);
    assertEquals(token.headers["content-type"], "application/x-www-form-urlencoded");
    assertEquals([query.method, query.path, query.query], ["POST", QUERIES, {}]);
    assertEquals(query.headers.authorization, `Bearer ${TOKEN}`);
    assertEquals(JSON.parse(query.body), {
      query: "SELECT * FROM t WHERE a = ?",
      useLegacySql: false,
      parameterMode: "POSITIONAL",
      queryParameters: [
        p("INT64", "42"),
        p("FLOAT64", "1.5"),
        p("STRING", "x"),
        p("BOOL", "true"),
        p("TIMESTAMP", "2024-05-01 10:00:00.000+00:00"),
        p("STRING", null),
        {
          parameterType: { type: "ARRAY", arrayType: { type: "STRING" } },
          parameterValue: { arrayValues: [{ value: "a" }, { value: "b" }] },
        },
        p("JSON", '{"k":1}'),
      ],
      defaultDataset: { projectId: "acme-data", datasetId: "raw" },
      location: "EU",
      maxResults: 2,
      formatOptions: { useInt64Timestamp: true },
    });
    assertEquals([page.method, page.path], ["GET", `${QUERIES}/job_1`]);
    assertEquals(page.query, {
      "formatOptions.useInt64Timestamp": "true",
      location: "EU",
      maxResults: "2",
      pageToken: "page-2",
    });
    assertEquals(page.headers.authorization, `Bearer ${TOKEN}`);
    assert(!srv.requests.some((r) => r.url.includes(TOKEN)), "the token is never in a URL");

    // The token is cached: a second query asks for no new one.
    await bq.execute("SELECT 1");
    assertEquals(srv.requests.filter((r) => r.path === "/token").length, 1);
  } finally {
    await srv.close();
  }
});

Deno.test("bigquery: named params and polling a job that is not complete yet", async () => {
  let polls = 0;
  const srv = google(null, (seen) => {
    if (seen.method === "POST") return json({ jobComplete: false, jobReference: JOB });
    polls++;
    if (polls === 1) return json({ jobComplete: false, jobReference: JOB });
    return json({
      jobComplete: true,
      jobReference: JOB,
      schema: { fields: [{ name: "n", type: "INT64" }] },
      rows: [v("1")],
    });
  });
  try {
    await using bq = bigquery({ project: "acme-data", accessToken: TOKEN, apiEndpoint: srv.url });
    const rows = await bq.extract({ query: "SELECT @n AS n", params: { n: 1, day: "2024-05-01" } });
    assertEquals(rows, [{ n: 1 }]);
    assertEquals(jobs(srv.requests), [{
      query: "SELECT @n AS n",
      useLegacySql: false,
      parameterMode: "NAMED",
      queryParameters: [
        { name: "n", ...p("INT64", "1") },
        { name: "day", ...p("STRING", "2024-05-01") },
      ],
      maxResults: 10000,
      formatOptions: { useInt64Timestamp: true },
    }]);
    const gets = srv.requests.filter((r) => r.method === "GET");
    assertEquals(gets.length, 2);
    for (const get of gets) {
      assertEquals(get.path, `${QUERIES}/job_1`);
      assertEquals(get.query, {
        "formatOptions.useInt64Timestamp": "true",
        location: "EU",
        maxResults: "10000",
        timeoutMs: "10000",
      });
    }
    assertEquals(
      srv.requests.filter((r) => r.path === "/token").length,
      0,
      "accessToken used as is",
    );
  } finally {
    await srv.close();
  }
});

Deno.test("bigquery errors: API and token errors become ConnectorErrors with Google's message", async () => {
  const srv = google(null, () =>
    json({
      error: {
        code: 400,
        message: 'Syntax error: Expected end of input but got identifier "SELEC" at [1:1]',
        errors: [{
          message: "Syntax error",
          domain: "global",
          reason: "invalidQuery",
          location: "q",
        }],
        status: "INVALID_ARGUMENT",
      },
    }, 400));
  const other = await rsaKeyPair(); // the stand-in checks signatures against another key
  const { credentials } = await serviceAccount("http://placeholder");
  try {
    const fail = async (run: () => Promise<unknown>) => {
      try {
        await run();
      } catch (error) {
        assert(error instanceof ConnectorError, `not a ConnectorError: ${error}`);
        assert(!error.message.includes("PRIVATE KEY") && !error.message.includes(TOKEN));
        return error.message;
      }
      throw new Error("expected a failure");
    };
    await using ok = bigquery({
      project: "acme-data",
      accessToken: TOKEN,
      apiEndpoint: srv.url,
      name: "bq",
    });
    assertEquals(
      await fail(() => ok.extract({ query: "SELEC 1" })),
      'bq: BigQuery error (HTTP 400 invalidQuery): Syntax error: Expected end of input but got identifier "SELEC" at [1:1]',
    );
    await using wrongToken = bigquery({
      project: "acme-data",
      accessToken: "nope",
      apiEndpoint: srv.url,
      name: "bq",
    });
    assertEquals(
      await fail(() => wrongToken.ping()),
      "bq: BigQuery error (HTTP 401): Request had invalid authentication credentials.",
    );
    const badKey = google(other.publicKey, () => undefined);
    try {
      await using bq = bigquery({
        project: "acme-data",
        credentials: JSON.parse(credentials.replace("http://placeholder", badKey.url)),
        apiEndpoint: badKey.url,
        name: "bq",
      });
      assertMatch(
        await fail(() => bq.ping()),
        new RegExp(
          `^bq: Google token request for ${EMAIL} failed \\(HTTP 400\\): invalid_grant: Invalid JWT: Error: bad JWT signature$`,
        ),
      );
    } finally {
      await badKey.close();
    }
  } finally {
    await srv.close();
  }
});

Deno.test("bigquery options: missing project or credentials are refused at once", () => {
  const refused = (run: () => unknown) => {
    try {
      run();
    } catch (error) {
      assert(error instanceof ConnectorError);
      return error.message;
    }
    throw new Error("expected a failure");
  };
  assertEquals(refused(() => bigquery({ project: "" })), "bigquery: project is required");
  assertEquals(
    refused(() => bigquery({ project: "p" })),
    "bigquery: no credentials: set credentials (a service-account key) or accessToken",
  );
  assertEquals(
    refused(() => bigquery({ project: "p", credentials: "{not json" })),
    "bigquery: credentials is a string but not JSON (a key file's text)",
  );
  assertEquals(
    refused(() => bigquery({ project: "p", accessToken: "t", apiEndpoint: "https://u:pw@x" })),
    "bigquery: apiEndpoint must be an http(s) URL without credentials",
  );
});

const ROWS = [
  {
    id: 1,
    name: "a",
    at: new Date("2024-05-01T00:00:00Z"),
    meta: { k: [1] },
    ok: true,
    score: 1.5,
    day: "2024-05-01",
  },
  {
    id: 2,
    name: "b",
    at: new Date("2024-05-02T00:00:00Z"),
    meta: null,
    ok: false,
    score: 2,
    day: "2024-05-02",
  },
  {
    id: 3,
    name: null,
    at: "2024-05-03T00:00:00Z",
    meta: [],
    ok: true,
    score: 0.25,
    day: "2024-05-03",
  },
];
const COLUMNS =
  "(`id` INT64, `name` STRING, `at` TIMESTAMP, `meta` JSON, `ok` BOOL, `score` FLOAT64, `day` DATE)";
const NAMES = "`id`, `name`, `at`, `meta`, `ok`, `score`, `day`";
const EXPIRES =
  " OPTIONS (expiration_timestamp = TIMESTAMP_ADD(CURRENT_TIMESTAMP(), INTERVAL 1 DAY))";
const PARAMS = [
  [
    p("INT64", "1"),
    p("STRING", "a"),
    p("TIMESTAMP", "2024-05-01 00:00:00.000+00:00"),
    p("JSON", '{"k":[1]}'),
    p("BOOL", "true"),
    p("FLOAT64", "1.5"),
    p("DATE", "2024-05-01"),
  ],
  [
    p("INT64", "2"),
    p("STRING", "b"),
    p("TIMESTAMP", "2024-05-02 00:00:00.000+00:00"),
    p("BOOL", "false"),
    p("FLOAT64", "2"),
    p("DATE", "2024-05-02"),
  ],
  [
    p("INT64", "3"),
    p("TIMESTAMP", "2024-05-03T00:00:00Z"),
    p("JSON", "[]"),
    p("BOOL", "true"),
    p("FLOAT64", "0.25"),
    p("DATE", "2024-05-03"),
  ],
];

/** A statement as sent: the SQL, plus the parameters when there are any. */
function statement(sql: string, queryParameters?: unknown[]) {
  return {
    query: sql,
    useLegacySql: false,
    ...(queryParameters ? { parameterMode: "POSITIONAL", queryParameters } : {}),
    defaultDataset: { projectId: "acme-data", datasetId: "raw" },
    formatOptions: { useInt64Timestamp: true },
  };
}

function loader(answer: Answer = () => undefined) {
  const srv = google(null, answer);
  const bq = bigquery({
    project: "acme-data",
    dataset: "raw",
    accessToken: TOKEN,
    apiEndpoint: srv.url,
  });
  return { srv, bq };
}

/** The query `load` reads the target's columns with. */
const columnsOf = (table: string, dataset = "") =>
  `SELECT column_name AS name, data_type AS type FROM ${dataset}INFORMATION_SCHEMA.COLUMNS ` +
  `WHERE table_name = '${table}' ORDER BY ordinal_position`;

Deno.test("bigquery load append: typed multi-row INSERTs into a stage, one INSERT … SELECT", async () => {
  const { srv, bq } = loader();
  try {
    assertEquals((await bq.load(ROWS, { table: "orders", batchSize: 2 })).rows, 3);
    assertEquals(jobs(srv.requests), [
      statement(columnsOf("orders")),
      statement(`CREATE TABLE IF NOT EXISTS \`orders\` ${COLUMNS}`),
      statement(`CREATE OR REPLACE TABLE \`orders__tau_stage\` ${COLUMNS}${EXPIRES}`),
      statement(
        `INSERT INTO \`orders__tau_stage\` (${NAMES}) VALUES (?, ?, ?, ?, ?, ?, ?), (?, ?, ?, NULL, ?, ?, ?)`,
        [...PARAMS[0]!, ...PARAMS[1]!],
      ),
      statement(
        `INSERT INTO \`orders__tau_stage\` (${NAMES}) VALUES (?, NULL, ?, ?, ?, ?, ?)`,
        PARAMS[2],
      ),
      statement(`INSERT INTO \`orders\` (${NAMES}) SELECT ${NAMES} FROM \`orders__tau_stage\``),
      statement("DROP TABLE IF EXISTS `orders__tau_stage`"),
    ]);
  } finally {
    await bq.close();
    await srv.close();
  }
});

Deno.test("bigquery load: a failing INSERT leaves the target untouched and drops the stage", async () => {
  let inserts = 0;
  const { srv, bq } = loader((_, body) => {
    if (String(body.query).startsWith("INSERT INTO `raw`.`orders__tau_stage`") && ++inserts === 2) {
      return json({
        error: {
          code: 400,
          message: "Invalid timestamp: 'x'",
          errors: [{ reason: "invalidQuery" }],
        },
      }, 400);
    }
  });
  try {
    let error: unknown;
    try {
      await bq.load(ROWS, { table: "raw.orders", batchSize: 2 });
    } catch (e) {
      error = e;
    }
    assert(error instanceof ConnectorError);
    assertMatch(error.message, /Invalid timestamp/);
    const sql = jobs(srv.requests).map((b) => b.query as string);
    assertEquals(sql.length, 6);
    assertEquals(sql[0], columnsOf("orders", "`raw`."));
    assert(!sql.some((s) => s.startsWith("INSERT INTO `raw`.`orders` ")), "target never written");
    assertEquals(sql.at(-1), "DROP TABLE IF EXISTS `raw`.`orders__tau_stage`");
  } finally {
    await bq.close();
    await srv.close();
  }
});

Deno.test("bigquery load replace: stage, then CREATE OR REPLACE TABLE … AS SELECT", async () => {
  const { srv, bq } = loader((_, body) => {
    if (String(body.query).startsWith("TRUNCATE TABLE `gone`")) {
      return json({
        error: {
          code: 404,
          message: "Not found: Table acme-data:raw.gone",
          errors: [{ reason: "notFound" }],
        },
      }, 404);
    }
  });
  try {
    assertEquals((await bq.load(ROWS.slice(0, 1), { table: "orders", mode: "replace" })).rows, 1);
    assertEquals((await bq.load([], { table: "orders", mode: "replace" })).rows, 0);
    assertEquals((await bq.load([], { table: "gone", mode: "replace" })).rows, 0);
    assertEquals(jobs(srv.requests), [
      statement(columnsOf("orders")),
      statement(`CREATE OR REPLACE TABLE \`orders__tau_stage\` ${COLUMNS}${EXPIRES}`),
      statement(
        `INSERT INTO \`orders__tau_stage\` (${NAMES}) VALUES (?, ?, ?, ?, ?, ?, ?)`,
        PARAMS[0],
      ),
      statement("CREATE OR REPLACE TABLE `orders` AS SELECT * FROM `orders__tau_stage`"),
      statement("DROP TABLE IF EXISTS `orders__tau_stage`"),
      statement("TRUNCATE TABLE `orders`"),
      statement("TRUNCATE TABLE `gone`"),
    ]);
  } finally {
    await bq.close();
    await srv.close();
  }
});

Deno.test("bigquery load upsert: duplicate check, then one MERGE", async () => {
  let duplicates = false;
  const { srv, bq } = loader((_, body) => {
    if (String(body.query).startsWith("SELECT `id`")) {
      return json({
        jobComplete: true,
        jobReference: JOB,
        schema: { fields: [{ name: "id", type: "INTEGER" }] },
        rows: duplicates ? [v("2")] : [],
      });
    }
  });
  try {
    assertEquals(
      (await bq.load(ROWS.slice(0, 1).map(({ id, name }) => ({ id, name })), {
        table: "orders",
        mode: "upsert",
        mergeKey: "id",
      })).rows,
      1,
    );
    assertEquals(jobs(srv.requests).map((b) => b.query), [
      columnsOf("orders"),
      "CREATE TABLE IF NOT EXISTS `orders` (`id` INT64, `name` STRING)",
      `CREATE OR REPLACE TABLE \`orders__tau_stage\` (\`id\` INT64, \`name\` STRING)${EXPIRES}`,
      "INSERT INTO `orders__tau_stage` (`id`, `name`) VALUES (?, ?)",
      "SELECT `id` FROM `orders__tau_stage` GROUP BY `id` HAVING COUNT(*) > 1 LIMIT 1",
      "MERGE `orders` AS tgt USING `orders__tau_stage` AS src ON tgt.`id` = src.`id` " +
      "WHEN MATCHED THEN UPDATE SET `name` = src.`name` " +
      "WHEN NOT MATCHED THEN INSERT (`id`, `name`) VALUES (src.`id`, src.`name`)",
      "DROP TABLE IF EXISTS `orders__tau_stage`",
    ]);

    srv.requests.length = 0;
    duplicates = true;
    const twoBatches = async function* () {
      yield [{ id: 2, name: "x" }];
      yield [{ id: 2, name: "y" }];
    };
    let error: unknown;
    try {
      await bq.load(twoBatches(), { table: "orders", mode: "upsert", mergeKey: ["id"] });
    } catch (e) {
      error = e;
    }
    assert(error instanceof ConnectorError);
    assertEquals(error.message, "Cannot upsert into orders: more than one row has id = 2");
    const sql = jobs(srv.requests).map((b) => b.query as string);
    assert(!sql.some((s) => s.startsWith("MERGE")), "no MERGE after duplicates");
    assertEquals(sql.at(-1), "DROP TABLE IF EXISTS `orders__tau_stage`");
  } finally {
    await bq.close();
    await srv.close();
  }
});

Deno.test("bigquery execute reports DML row counts; close refuses later calls", async () => {
  const { srv, bq } = loader((_, body) => {
    if (String(body.query).startsWith("DELETE")) {
      return json({ jobComplete: true, jobReference: JOB, numDmlAffectedRows: "12" });
    }
  });
  try {
    assertEquals(await bq.execute("DELETE FROM t WHERE day < ?", ["2024-01-01"]), {
      rowCount: 12,
      rows: [],
    });
    assertEquals(
      jobs(srv.requests)[0],
      statement("DELETE FROM t WHERE day < ?", [p("STRING", "2024-01-01")]),
    );
    await bq.close();
    let error: unknown;
    try {
      await bq.ping();
    } catch (e) {
      error = e;
    }
    assert(error instanceof ConnectorError);
    assertEquals(error.message, "bigquery: the connector is closed");
  } finally {
    await srv.close();
  }
});

Deno.test("bigquery load across a schema change: ALTER, then a MERGE of the rows' columns only", async () => {
  const { srv, bq } = loader((_, body) => {
    if (String(body.query).includes("INFORMATION_SCHEMA.COLUMNS")) {
      return json({
        jobComplete: true,
        jobReference: JOB,
        schema: { fields: [{ name: "name", type: "STRING" }, { name: "type", type: "STRING" }] },
        rows: [v("id", "INT64"), v("customer", "STRING"), v("amount", "NUMERIC(10, 2)")],
      });
    }
  });
  try {
    const rows = [{ id: 1, customer_name: "Ann", amount: 11 }];
    const loaded = await bq.load(rows, { table: "orders", mode: "upsert", mergeKey: "id" });
    assertEquals(loaded.schema_changes?.added, [{ column: "customer_name", type: "STRING" }]);
    const sql = jobs(srv.requests).map((b) => b.query);
    assertEquals(sql.slice(0, 2), [
      columnsOf("orders"),
      "ALTER TABLE `orders` ADD COLUMN `customer_name` STRING",
    ]);
    assert(sql.includes(
      "MERGE `orders` AS tgt USING `orders__tau_stage` AS src ON tgt.`id` = src.`id` " +
        "WHEN MATCHED THEN UPDATE SET `customer_name` = src.`customer_name`, `amount` = src.`amount` " +
        "WHEN NOT MATCHED THEN INSERT (`id`, `customer_name`, `amount`) VALUES (src.`id`, src.`customer_name`, src.`amount`)",
    ));

    srv.requests.length = 0;
    let refused: unknown;
    try {
      await bq.load([{ id: 2, customer: "bob", amount: 1.5 }], { table: "orders" });
    } catch (e) {
      refused = e;
    }
    assert(refused instanceof SchemaChangeError);
    assertMatch(
      refused.message,
      /column amount is NUMERIC\(10, 2\) in the table but the rows carry double/,
    );
    assertEquals(jobs(srv.requests).length, 1, "nothing but the column query was sent");
  } finally {
    await bq.close();
    await srv.close();
  }
});
