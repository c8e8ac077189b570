-- snowflake: partitioned_first

SELECT CASE WHEN table_type = 'VIEW' THEN 'view' ELSE 'table' END AS "kind" FROM information_schema.tables WHERE table_schema = ? AND table_name = ?
-- params: ["analytics","target"];

SELECT column_name AS "name", data_type AS "type" FROM information_schema.columns WHERE table_schema = ? AND table_name = ? ORDER BY ordinal_position
-- params: ["analytics","target"];

CREATE SCHEMA IF NOT EXISTS "analytics";

CREATE TRANSIENT TABLE "analytics"."target__tau_stage_0001" AS SELECT src.* FROM (SELECT * FROM raw.source) AS src WHERE CAST(src."event_date" AS TIMESTAMP_TZ) >= CAST(? AS TIMESTAMP_TZ)
-- params: ["2025-12-01 00:00:00.000+00:00"];

SELECT column_name AS "name", data_type AS "type" FROM information_schema.columns WHERE table_schema = ? AND table_name = ? ORDER BY ordinal_position
-- params: ["analytics","target__tau_stage_0001"];

SELECT count(*) AS n FROM "analytics"."target__tau_stage_0001";

CREATE TABLE "analytics"."target" CLUSTER BY ("id") AS SELECT * FROM "analytics"."target__tau_stage_0001";

DROP TABLE IF EXISTS "analytics"."target__tau_stage_0001";
