-- snowflake: incremental_append

SELECT CASE WHEN table_type = 'VIEW' THEN 'view' ELSE 'table' END AS "kind" FROM information_schema.tables WHERE table_schema = ? AND table_name = ?
-- params: ["analytics","target"];

SELECT column_name AS "name", data_type AS "type" FROM information_schema.columns WHERE table_schema = ? AND table_name = ? ORDER BY ordinal_position
-- params: ["analytics","target"];

SELECT 1 AS marked FROM "analytics"."target" WHERE "updated_at" IS NOT NULL LIMIT 1;

CREATE TRANSIENT TABLE "analytics"."target__tau_stage_0001" AS SELECT src.* FROM (SELECT * FROM raw.source) AS src WHERE src."updated_at" > (SELECT max("updated_at") FROM "analytics"."target");

SELECT column_name AS "name", data_type AS "type" FROM information_schema.columns WHERE table_schema = ? AND table_name = ? ORDER BY ordinal_position
-- params: ["analytics","target__tau_stage_0001"];

SELECT count(*) AS n FROM "analytics"."target__tau_stage_0001";

-- one request:
BEGIN TRANSACTION;
INSERT INTO "analytics"."target" ("id", "name", "event_date", "updated_at") SELECT s."id", s."name", s."event_date", s."updated_at" FROM "analytics"."target__tau_stage_0001" AS s;
COMMIT
-- params: [];

DROP TABLE IF EXISTS "analytics"."target__tau_stage_0001";
