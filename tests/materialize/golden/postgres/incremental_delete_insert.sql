-- postgres: incremental_delete_insert

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

SELECT count(*) AS n FROM "target__tau_stage_0001" AS s WHERE s."id" IS NULL OR s."name" IS NULL;

SELECT s."id", s."name", count(*) AS n FROM "target__tau_stage_0001" AS s GROUP BY s."id", s."name" HAVING count(*) > 1 ORDER BY n DESC, s."id", s."name" LIMIT 5;

SELECT count(*) AS n FROM "target__tau_stage_0001";

SELECT count(*) AS n FROM "analytics"."target" AS t WHERE EXISTS (SELECT 1 FROM "target__tau_stage_0001" AS i WHERE i."id" = t."id" AND i."name" = t."name");

DELETE FROM "analytics"."target" AS t WHERE EXISTS (SELECT 1 FROM "target__tau_stage_0001" AS i WHERE i."id" = t."id" AND i."name" = t."name");

INSERT INTO "analytics"."target" ("id", "name", "event_date", "updated_at") SELECT s."id", s."name", s."event_date", s."updated_at" FROM "target__tau_stage_0001" AS s;

DROP TABLE IF EXISTS "target__tau_stage_0001";

COMMIT;
