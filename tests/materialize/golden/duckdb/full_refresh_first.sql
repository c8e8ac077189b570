-- duckdb: full_refresh_first

BEGIN;

SELECT 'table' AS kind FROM duckdb_tables() WHERE database_name = current_database() AND schema_name = $1 AND table_name = $2 UNION ALL SELECT 'view' AS kind FROM duckdb_views() WHERE NOT internal AND database_name = current_database() AND schema_name = $3 AND view_name = $4
-- params: ["analytics","target","analytics","target"];

CREATE SCHEMA IF NOT EXISTS "analytics";

CREATE TABLE "analytics"."target" AS SELECT * FROM (SELECT * FROM raw.source) AS src;

SELECT count(*) AS n FROM "analytics"."target";

COMMIT;
