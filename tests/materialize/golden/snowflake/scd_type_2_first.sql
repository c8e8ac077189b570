-- snowflake: scd_type_2_first

SELECT CASE WHEN table_type = 'VIEW' THEN 'view' ELSE 'table' END AS "kind" FROM information_schema.tables WHERE table_schema = ? AND table_name = ?
-- params: ["analytics","target"];

SELECT column_name AS "name", data_type AS "type" FROM information_schema.columns WHERE table_schema = ? AND table_name = ? ORDER BY ordinal_position
-- params: ["analytics","target"];

CREATE SCHEMA IF NOT EXISTS "analytics";

CREATE TRANSIENT TABLE "analytics"."target__tau_stage_0001" AS SELECT src.*, md5(CASE WHEN src."name" IS NULL THEN 'N' ELSE 'V' || CAST(LENGTH(CAST(src."name" AS VARCHAR)) AS VARCHAR) || ':' || CAST(src."name" AS VARCHAR) END || CASE WHEN src."event_date" IS NULL THEN 'N' ELSE 'V' || CAST(LENGTH(CAST(src."event_date" AS VARCHAR)) AS VARCHAR) || ':' || CAST(src."event_date" AS VARCHAR) END) AS "row_hash" FROM (SELECT * FROM raw.source) AS src;

SELECT column_name AS "name", data_type AS "type" FROM information_schema.columns WHERE table_schema = ? AND table_name = ? ORDER BY ordinal_position
-- params: ["analytics","target__tau_stage_0001"];

SELECT count(*) AS n FROM "analytics"."target__tau_stage_0001" AS s WHERE s."id" IS NULL;

SELECT s."id", count(*) AS n FROM "analytics"."target__tau_stage_0001" AS s GROUP BY s."id" HAVING count(*) > 1 ORDER BY n DESC, s."id" LIMIT 5;

SELECT count(*) AS n FROM "analytics"."target__tau_stage_0001";

CREATE TABLE "analytics"."target" AS SELECT s.*, CAST(? AS TIMESTAMP_TZ) AS "valid_from", CAST(NULL AS TIMESTAMP_TZ) AS "valid_to", TRUE AS "is_current" FROM "analytics"."target__tau_stage_0001" AS s
-- params: ["2026-03-01 06:00:00.000+00:00"];

DROP TABLE IF EXISTS "analytics"."target__tau_stage_0001";
