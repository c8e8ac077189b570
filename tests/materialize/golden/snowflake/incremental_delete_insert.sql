-- snowflake: incremental_delete_insert

SELECT CASE WHEN table_type = 'VIEW' THEN 'view' ELSE 'table' END AS "kind" FROM information_schema.tables WHERE table_schema = ? AND table_name = ?
-- params: ["analytics","target"];

SELECT column_name AS "name", data_type AS "type" FROM information_schema.columns WHERE table_schema = ? AND table_name = ? ORDER BY ordinal_position
-- params: ["analytics","target"];

CREATE TRANSIENT TABLE "analytics"."target__tau_stage_0001" AS SELECT src.* FROM (SELECT * FROM raw.source) AS src;

SELECT column_name AS "name", data_type AS "type" FROM information_schema.columns WHERE table_schema = ? AND table_name = ? ORDER BY ordinal_position
-- params: ["analytics","target__tau_stage_0001"];

SELECT count(*) AS n FROM "analytics"."target__tau_stage_0001" AS s WHERE s."id" IS NULL OR s."name" IS NULL;

SELECT s."id", s."name", count(*) AS n FROM "analytics"."target__tau_stage_0001" AS s GROUP BY s."id", s."name" HAVING count(*) > 1 ORDER BY n DESC, s."id", s."name" LIMIT 5;

SELECT count(*) AS n FROM "analytics"."target__tau_stage_0001";

SELECT count(*) AS n FROM "analytics"."target" AS t WHERE EXISTS (SELECT 1 FROM "analytics"."target__tau_stage_0001" AS i WHERE i."id" = t."id" AND i."name" = t."name");

-- one request:
BEGIN TRANSACTION;
DELETE FROM "analytics"."target" AS t WHERE EXISTS (SELECT 1 FROM "analytics"."target__tau_stage_0001" AS i WHERE i."id" = t."id" AND i."name" = t."name");
INSERT INTO "analytics"."target" ("id", "name", "event_date", "updated_at") SELECT s."id", s."name", s."event_date", s."updated_at" FROM "analytics"."target__tau_stage_0001" AS s;
COMMIT
-- params: [];

DROP TABLE IF EXISTS "analytics"."target__tau_stage_0001";
