-- snowflake: scd_type_1

SELECT CASE WHEN table_type = 'VIEW' THEN 'view' ELSE 'table' END AS "kind" FROM information_schema.tables WHERE table_schema = ? AND table_name = ?
-- params: ["analytics","target"];

SELECT column_name AS "name", data_type AS "type" FROM information_schema.columns WHERE table_schema = ? AND table_name = ? ORDER BY ordinal_position
-- params: ["analytics","target"];

CREATE TRANSIENT TABLE "analytics"."target__tau_stage_0001" AS SELECT src.* FROM (SELECT * FROM raw.source) AS src;

SELECT column_name AS "name", data_type AS "type" FROM information_schema.columns WHERE table_schema = ? AND table_name = ? ORDER BY ordinal_position
-- params: ["analytics","target__tau_stage_0001"];

SELECT count(*) AS n FROM "analytics"."target__tau_stage_0001" AS s WHERE s."id" IS NULL;

SELECT s."id", count(*) AS n FROM "analytics"."target__tau_stage_0001" AS s GROUP BY s."id" HAVING count(*) > 1 ORDER BY n DESC, s."id" LIMIT 5;

SELECT count(*) AS n FROM "analytics"."target__tau_stage_0001";

SELECT count(*) AS n FROM "analytics"."target__tau_stage_0001" AS s WHERE EXISTS (SELECT 1 FROM "analytics"."target" AS i WHERE i."id" = s."id" AND (i."name" IS DISTINCT FROM s."name"));

SELECT count(*) AS n FROM "analytics"."target__tau_stage_0001" AS s WHERE NOT EXISTS (SELECT 1 FROM "analytics"."target" AS i WHERE i."id" = s."id");

-- one request:
BEGIN TRANSACTION;
UPDATE "analytics"."target" AS t SET "name" = s."name", "event_date" = s."event_date", "updated_at" = s."updated_at" FROM "analytics"."target__tau_stage_0001" AS s WHERE t."id" = s."id" AND (t."name" IS DISTINCT FROM s."name");
INSERT INTO "analytics"."target" ("id", "name", "event_date", "updated_at") SELECT s."id", s."name", s."event_date", s."updated_at" FROM "analytics"."target__tau_stage_0001" AS s WHERE NOT EXISTS (SELECT 1 FROM "analytics"."target" AS i WHERE i."id" = s."id");
COMMIT
-- params: [];

DROP TABLE IF EXISTS "analytics"."target__tau_stage_0001";
