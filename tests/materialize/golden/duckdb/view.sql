-- duckdb: view

BEGIN;

SELECT 'table' AS kind FROM duckdb_tables() WHERE database_name = current_database() AND schema_name = $1 AND table_name = $2 UNION ALL SELECT 'view' AS kind FROM duckdb_views() WHERE NOT internal AND database_name = current_database() AND schema_name = $3 AND view_name = $4
-- params: ["analytics","target","analytics","target"];

DROP VIEW "analytics"."target";

CREATE VIEW "analytics"."target" AS SELECT * FROM (SELECT * FROM raw.source) AS src;

COMMIT;
