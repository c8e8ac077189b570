-- duckdb: scd_type_2_first

BEGIN;

SELECT 'table' AS kind FROM duckdb_tables() WHERE database_name = current_database() AND schema_name = $1 AND table_name = $2 UNION ALL SELECT 'view' AS kind FROM duckdb_views() WHERE NOT internal AND database_name = current_database() AND schema_name = $3 AND view_name = $4
-- params: ["analytics","target","analytics","target"];

SELECT column_name AS name, data_type AS type FROM duckdb_columns() WHERE database_name = current_database() AND schema_name = $1 AND table_name = $2 ORDER BY column_index
-- params: ["analytics","target"];

CREATE SCHEMA IF NOT EXISTS "analytics";

CREATE TEMP TABLE "target__tau_stage_0001" AS SELECT src.*, md5(CASE WHEN src."name" IS NULL THEN 'N' ELSE 'V' || CAST(LENGTH(CAST(src."name" AS VARCHAR)) AS VARCHAR) || ':' || CAST(src."name" AS VARCHAR) END || CASE WHEN src."event_date" IS NULL THEN 'N' ELSE 'V' || CAST(LENGTH(CAST(src."event_date" AS VARCHAR)) AS VARCHAR) || ':' || CAST(src."event_date" AS VARCHAR) END) AS "row_hash" FROM (SELECT * FROM raw.source) AS src;

SELECT column_name AS name, data_type AS type FROM duckdb_columns() WHERE database_name = 'temp' AND schema_name = $1 AND table_name = $2 ORDER BY column_index
-- params: ["main","target__tau_stage_0001"];

SELECT count(*) AS n FROM "target__tau_stage_0001" AS s WHERE s."id" IS NULL;

SELECT s."id", count(*) AS n FROM "target__tau_stage_0001" AS s GROUP BY s."id" HAVING count(*) > 1 ORDER BY n DESC, s."id" LIMIT 5;

SELECT count(*) AS n FROM "target__tau_stage_0001";

CREATE TABLE "analytics"."target" AS SELECT s.*, CAST($1 AS TIMESTAMPTZ) AS "valid_from", CAST(NULL AS TIMESTAMPTZ) AS "valid_to", TRUE AS "is_current" FROM "target__tau_stage_0001" AS s
-- params: ["2026-03-01 06:00:00.000+00:00"];

DROP TABLE IF EXISTS "target__tau_stage_0001";

COMMIT;
