-- duckdb: partitioned

BEGIN;

SELECT 'table' AS kind FROM duckdb_tables() WHERE database_name = current_database() AND schema_name = $1 AND table_name = $2 UNION ALL SELECT 'view' AS kind FROM duckdb_views() WHERE NOT internal AND database_name = current_database() AND schema_name = $3 AND view_name = $4
-- params: ["analytics","target","analytics","target"];

SELECT column_name AS name, data_type AS type FROM duckdb_columns() WHERE database_name = current_database() AND schema_name = $1 AND table_name = $2 ORDER BY column_index
-- params: ["analytics","target"];

CREATE TEMP TABLE "target__tau_stage_0001" AS SELECT src.* FROM (SELECT * FROM raw.source) AS src WHERE CAST(src."event_date" AS TIMESTAMPTZ) >= CAST($1 AS TIMESTAMPTZ)
-- params: ["2025-12-01 00:00:00.000+00:00"];

SELECT column_name AS name, data_type AS type FROM duckdb_columns() WHERE database_name = 'temp' AND schema_name = $1 AND table_name = $2 ORDER BY column_index
-- params: ["main","target__tau_stage_0001"];

SELECT count(*) AS n FROM "target__tau_stage_0001";

SELECT count(*) AS n FROM "analytics"."target" AS t WHERE date_trunc('day', t."event_date") IN (SELECT DISTINCT date_trunc('day', s."event_date") FROM "target__tau_stage_0001" AS s);

SELECT count(*) AS n FROM "analytics"."target" AS t WHERE CAST(t."event_date" AS TIMESTAMPTZ) < CAST($1 AS TIMESTAMPTZ)
-- params: ["2025-12-01 00:00:00.000+00:00"];

DELETE FROM "analytics"."target" AS t WHERE date_trunc('day', t."event_date") IN (SELECT DISTINCT date_trunc('day', s."event_date") FROM "target__tau_stage_0001" AS s);

INSERT INTO "analytics"."target" ("id", "name", "event_date", "updated_at") SELECT s."id", s."name", s."event_date", s."updated_at" FROM "target__tau_stage_0001" AS s;

DELETE FROM "analytics"."target" AS t WHERE CAST(t."event_date" AS TIMESTAMPTZ) < CAST($1 AS TIMESTAMPTZ)
-- params: ["2025-12-01 00:00:00.000+00:00"];

DROP TABLE IF EXISTS "target__tau_stage_0001";

COMMIT;
