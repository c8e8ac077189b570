-- postgres: scd_type_2_first

BEGIN;

SELECT CASE WHEN c.relkind IN ('v', 'm') THEN 'view' ELSE 'table' END AS kind FROM pg_class c WHERE c.oid = to_regclass($1)
-- params: ["\"analytics\".\"target\""];

SELECT pg_advisory_xact_lock(hashtextextended($1, 0))
-- params: ["tau.materialize:analytics.target"];

SELECT CASE WHEN c.relkind IN ('v', 'm') THEN 'view' ELSE 'table' END AS kind FROM pg_class c WHERE c.oid = to_regclass($1)
-- params: ["\"analytics\".\"target\""];

SELECT a.attname AS name, format_type(a.atttypid, a.atttypmod) AS type FROM pg_attribute a WHERE a.attrelid = to_regclass($1) AND a.attnum > 0 AND NOT a.attisdropped ORDER BY a.attnum
-- params: ["\"analytics\".\"target\""];

CREATE SCHEMA IF NOT EXISTS "analytics";

CREATE TEMP TABLE "target__tau_stage_0001" AS SELECT src.*, md5(CASE WHEN src."name" IS NULL THEN 'N' ELSE 'V' || CAST(LENGTH(CAST(src."name" AS VARCHAR)) AS VARCHAR) || ':' || CAST(src."name" AS VARCHAR) END || CASE WHEN src."event_date" IS NULL THEN 'N' ELSE 'V' || CAST(LENGTH(CAST(src."event_date" AS VARCHAR)) AS VARCHAR) || ':' || CAST(src."event_date" AS VARCHAR) END) AS "row_hash" FROM (SELECT * FROM raw.source) AS src;

SELECT a.attname AS name, format_type(a.atttypid, a.atttypmod) AS type FROM pg_attribute a WHERE a.attrelid = to_regclass($1) AND a.attnum > 0 AND NOT a.attisdropped ORDER BY a.attnum
-- params: ["\"target__tau_stage_0001\""];

SELECT count(*) AS n FROM "target__tau_stage_0001" AS s WHERE s."id" IS NULL;

SELECT s."id", count(*) AS n FROM "target__tau_stage_0001" AS s GROUP BY s."id" HAVING count(*) > 1 ORDER BY n DESC, s."id" LIMIT 5;

SELECT count(*) AS n FROM "target__tau_stage_0001";

CREATE TABLE "analytics"."target" AS SELECT s.*, CAST($1 AS TIMESTAMPTZ) AS "valid_from", CAST(NULL AS TIMESTAMPTZ) AS "valid_to", TRUE AS "is_current" FROM "target__tau_stage_0001" AS s
-- params: ["2026-03-01 06:00:00.000+00:00"];

DROP TABLE IF EXISTS "target__tau_stage_0001";

COMMIT;
