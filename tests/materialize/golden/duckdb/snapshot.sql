-- duckdb: snapshot

BEGIN;

SELECT 'table' AS kind FROM duckdb_tables() WHERE database_name = current_database() AND schema_name = $1 AND table_name = $2 UNION ALL SELECT 'view' AS kind FROM duckdb_views() WHERE NOT internal AND database_name = current_database() AND schema_name = $3 AND view_name = $4
-- params: ["analytics","target","analytics","target"];

SELECT column_name AS name, data_type AS type FROM duckdb_columns() WHERE database_name = current_database() AND schema_name = $1 AND table_name = $2 ORDER BY column_index
-- params: ["analytics","target"];

CREATE TEMP TABLE "target__tau_stage_0001" AS SELECT src.* FROM (SELECT * FROM raw.source) AS src;

SELECT column_name AS name, data_type AS type FROM duckdb_columns() WHERE database_name = 'temp' AND schema_name = $1 AND table_name = $2 ORDER BY column_index
-- params: ["main","target__tau_stage_0001"];

SELECT count(*) AS n FROM "target__tau_stage_0001";

SELECT coalesce(max("snapshot_id"), 0) AS n FROM "analytics"."target";

SELECT count(*) AS n FROM "analytics"."target" AS t WHERE t."snapshot_id" <= CAST($1 AS BIGINT)
-- params: [2];

INSERT INTO "analytics"."target" ("id", "name", "event_date", "updated_at", "snapshot_id", "snapshot_at") SELECT s."id", s."name", s."event_date", s."updated_at", CAST($1 AS BIGINT), CAST($2 AS TIMESTAMPTZ) FROM "target__tau_stage_0001" AS s
-- params: [5,"2026-03-01 06:00:00.000+00:00"];

DELETE FROM "analytics"."target" AS t WHERE t."snapshot_id" <= CAST($1 AS BIGINT)
-- params: [2];

DROP TABLE IF EXISTS "target__tau_stage_0001";

COMMIT;
