-- snowflake: scd_type_2

SELECT CASE WHEN table_type = 'VIEW' THEN 'view' ELSE 'table' END AS "kind" FROM information_schema.tables WHERE table_schema = ? AND table_name = ?
-- params: ["analytics","target"];

SELECT column_name AS "name", data_type AS "type" FROM information_schema.columns WHERE table_schema = ? AND table_name = ? ORDER BY ordinal_position
-- params: ["analytics","target"];

CREATE TRANSIENT TABLE "analytics"."target__tau_stage_0001" AS SELECT src.*, md5(CASE WHEN src."name" IS NULL THEN 'N' ELSE 'V' || CAST(LENGTH(CAST(src."name" AS VARCHAR)) AS VARCHAR) || ':' || CAST(src."name" AS VARCHAR) END || CASE WHEN src."event_date" IS NULL THEN 'N' ELSE 'V' || CAST(LENGTH(CAST(src."event_date" AS VARCHAR)) AS VARCHAR) || ':' || CAST(src."event_date" AS VARCHAR) END) AS "row_hash" FROM (SELECT * FROM raw.source) AS src;

SELECT column_name AS "name", data_type AS "type" FROM information_schema.columns WHERE table_schema = ? AND table_name = ? ORDER BY ordinal_position
-- params: ["analytics","target__tau_stage_0001"];

SELECT count(*) AS n FROM "analytics"."target__tau_stage_0001" AS s WHERE s."id" IS NULL;

SELECT s."id", count(*) AS n FROM "analytics"."target__tau_stage_0001" AS s GROUP BY s."id" HAVING count(*) > 1 ORDER BY n DESC, s."id" LIMIT 5;

SELECT count(*) AS n FROM "analytics"."target__tau_stage_0001";

SELECT count(*) AS n FROM "analytics"."target" AS t WHERE t."is_current" AND EXISTS (SELECT 1 FROM "analytics"."target__tau_stage_0001" AS i WHERE i."id" = t."id" AND (i."row_hash" IS DISTINCT FROM t."row_hash"));

SELECT count(*) AS n FROM "analytics"."target" AS t WHERE t."is_current" AND NOT EXISTS (SELECT 1 FROM "analytics"."target__tau_stage_0001" AS i WHERE i."id" = t."id");

SELECT count(*) AS n FROM "analytics"."target__tau_stage_0001" AS s WHERE NOT EXISTS (SELECT 1 FROM (SELECT * FROM "analytics"."target" WHERE "is_current") AS i WHERE i."id" = s."id" AND i."row_hash" = s."row_hash");

-- one request:
BEGIN TRANSACTION;
UPDATE "analytics"."target" AS t SET "valid_to" = CAST(? AS TIMESTAMP_TZ), "is_current" = FALSE WHERE t."is_current" AND EXISTS (SELECT 1 FROM "analytics"."target__tau_stage_0001" AS i WHERE i."id" = t."id" AND (i."row_hash" IS DISTINCT FROM t."row_hash"));
UPDATE "analytics"."target" AS t SET "valid_to" = CAST(? AS TIMESTAMP_TZ), "is_current" = FALSE WHERE t."is_current" AND NOT EXISTS (SELECT 1 FROM "analytics"."target__tau_stage_0001" AS i WHERE i."id" = t."id");
INSERT INTO "analytics"."target" ("id", "name", "event_date", "updated_at", "row_hash", "valid_from", "valid_to", "is_current") SELECT s."id", s."name", s."event_date", s."updated_at", s."row_hash", CAST(? AS TIMESTAMP_TZ), CAST(NULL AS TIMESTAMP_TZ), TRUE FROM "analytics"."target__tau_stage_0001" AS s WHERE NOT EXISTS (SELECT 1 FROM (SELECT * FROM "analytics"."target" WHERE "is_current") AS i WHERE i."id" = s."id");
COMMIT
-- params: ["2026-03-01 06:00:00.000+00:00","2026-03-01 06:00:00.000+00:00","2026-03-01 06:00:00.000+00:00"];

DROP TABLE IF EXISTS "analytics"."target__tau_stage_0001";
