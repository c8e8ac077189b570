-- postgres: partitioned

BEGIN;

SELECT CASE WHEN c.relkind IN ('v', 'm') THEN 'view' ELSE 'table' END AS kind FROM pg_class c WHERE c.oid = to_regclass($1)
-- params: ["\"analytics\".\"target\""];

SELECT pg_advisory_xact_lock(hashtextextended($1, 0))
-- params: ["tau.materialize:analytics.target"];

SELECT CASE WHEN c.relkind IN ('v', 'm') THEN 'view' ELSE 'table' END AS kind FROM pg_class c WHERE c.oid = to_regclass($1)
-- params: ["\"analytics\".\"target\""];

SELECT a.attname AS name, format_type(a.atttypid, a.atttypmod) AS type FROM pg_attribute a WHERE a.attrelid = to_regclass($1) AND a.attnum > 0 AND NOT a.attisdropped ORDER BY a.attnum
-- params: ["\"analytics\".\"target\""];

CREATE TEMP TABLE "target__tau_stage_0001" AS SELECT src.* FROM (SELECT * FROM raw.source) AS src WHERE CAST(src."event_date" AS TIMESTAMPTZ) >= CAST($1 AS TIMESTAMPTZ)
-- params: ["2025-12-01 00:00:00.000+00:00"];

SELECT a.attname AS name, format_type(a.atttypid, a.atttypmod) AS type FROM pg_attribute a WHERE a.attrelid = to_regclass($1) AND a.attnum > 0 AND NOT a.attisdropped ORDER BY a.attnum
-- params: ["\"target__tau_stage_0001\""];

SELECT count(*) AS n FROM "target__tau_stage_0001";

SELECT count(*) AS n FROM "analytics"."target" AS t WHERE date_trunc('day', t."event_date") IN (SELECT DISTINCT date_trunc('day', s."event_date") FROM "target__tau_stage_0001" AS s);

SELECT count(*) AS n FROM "analytics"."target" AS t WHERE CAST(t."event_date" AS TIMESTAMPTZ) < CAST($1 AS TIMESTAMPTZ)
-- params: ["2025-12-01 00:00:00.000+00:00"];

DELETE FROM "analytics"."target" AS t WHERE date_trunc('day', t."event_date") IN (SELECT DISTINCT date_trunc('day', s."event_date") FROM "target__tau_stage_0001" AS s);

INSERT INTO "analytics"."target" ("id", "name", "event_date", "updated_at") SELECT s."id", s."name", s."event_date", s."updated_at" FROM "target__tau_stage_0001" AS s;

DELETE FROM "analytics"."target" AS t WHERE CAST(t."event_date" AS TIMESTAMPTZ) < CAST($1 AS TIMESTAMPTZ)
-- params: ["2025-12-01 00:00:00.000+00:00"];

DROP TABLE IF EXISTS "target__tau_stage_0001";

COMMIT;
