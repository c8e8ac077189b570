-- snowflake: incremental_merge

SELECT CASE WHEN table_type = 'VIEW' THEN 'view' ELSE 'table' END AS "kind" FROM information_schema.tables WHERE table_schema = ? AND table_name = ?
-- params: ["analytics","target"];

SELECT column_name AS "name", data_type AS "type" FROM information_schema.columns WHERE table_schema = ? AND table_name = ? ORDER BY ordinal_position
-- params: ["analytics","target"];

SELECT 1 AS marked FROM "analytics"."target" WHERE "updated_at" IS NOT NULL LIMIT 1;

CREATE TRANSIENT TABLE "analytics"."target__tau_stage_0001" AS SELECT src.* FROM (SELECT * FROM raw.source) AS src WHERE src."updated_at" > (SELECT max("updated_at") FROM "analytics"."target");

SELECT column_name AS "name", data_type AS "type" FROM information_schema.columns WHERE table_schema = ? AND table_name = ? ORDER BY ordinal_position
-- params: ["analytics","target__tau_stage_0001"];

SELECT count(*) AS n FROM "analytics"."target__tau_stage_0001" AS s WHERE s."id" IS NULL;

SELECT s."id", count(*) AS n FROM "analytics"."target__tau_stage_0001" AS s GROUP BY s."id" HAVING count(*) > 1 ORDER BY n DESC, s."id" LIMIT 5;

SELECT count(*) AS n FROM "analytics"."target__tau_stage_0001";

SELECT count(*) AS n FROM "analytics"."target__tau_stage_0001" AS s WHERE EXISTS (SELECT 1 FROM "analytics"."target" AS i WHERE i."id" = s."id");

-- one request:
BEGIN TRANSACTION;
MERGE INTO "analytics"."target" AS t USING "analytics"."target__tau_stage_0001" AS s ON t."id" = s."id" WHEN MATCHED THEN UPDATE SET "name" = s."name", "event_date" = s."event_date", "updated_at" = s."updated_at" WHEN NOT MATCHED THEN INSERT ("id", "name", "event_date", "updated_at") VALUES (s."id", s."name", s."event_date", s."updated_at");
COMMIT
-- params: [];

DROP TABLE IF EXISTS "analytics"."target__tau_stage_0001";
