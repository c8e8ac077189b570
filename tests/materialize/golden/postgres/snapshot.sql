-- postgres: snapshot

BEGIN;

SELECT CASE WHEN c.relkind IN ('v', 'm') THEN 'view' ELSE 'table' END AS kind FROM pg_class c WHERE c.oid = to_regclass($1)
-- params: ["\"analytics\".\"target\""];

SELECT pg_advisory_xact_lock(hashtextextended($1, 0))
-- params: ["tau.materialize:analytics.target"];

SELECT CASE WHEN c.relkind IN ('v', 'm') THEN 'view' ELSE 'table' END AS kind FROM pg_class c WHERE c.oid = to_regclass($1)
-- params: ["\"analytics\".\"target\""];

SELECT a.attname AS name, format_type(a.atttypid, a.atttypmod) AS type FROM pg_attribute a WHERE a.attrelid = to_regclass($1) AND a.attnum > 0 AND NOT a.attisdropped ORDER BY a.attnum
-- params: ["\"analytics\".\"target\""];

CREATE TEMP TABLE "target__tau_stage_0001" AS SELECT src.* FROM (SELECT * FROM raw.source) AS src;

SELECT a.attname AS name, format_type(a.atttypid, a.atttypmod) AS type FROM pg_attribute a WHERE a.attrelid = to_regclass($1) AND a.attnum > 0 AND NOT a.attisdropped ORDER BY a.attnum
-- params: ["\"target__tau_stage_0001\""];

SELECT count(*) AS n FROM "target__tau_stage_0001";

SELECT coalesce(max("snapshot_id"), 0) AS n FROM "analytics"."target";

SELECT count(*) AS n FROM "analytics"."target" AS t WHERE t."snapshot_id" <= CAST($1 AS BIGINT)
-- params: [2];

INSERT INTO "analytics"."target" ("id", "name", "event_date", "updated_at", "snapshot_id", "snapshot_at") SELECT s."id", s."name", s."event_date", s."updated_at", CAST($1 AS BIGINT), CAST($2 AS TIMESTAMPTZ) FROM "target__tau_stage_0001" AS s
-- params: [5,"2026-03-01 06:00:00.000+00:00"];

DELETE FROM "analytics"."target" AS t WHERE t."snapshot_id" <= CAST($1 AS BIGINT)
-- params: [2];

DROP TABLE IF EXISTS "target__tau_stage_0001";

COMMIT;
