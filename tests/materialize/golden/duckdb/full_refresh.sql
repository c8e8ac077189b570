-- duckdb: full_refresh

BEGIN;

SELECT 'table' AS kind FROM duckdb_tables() WHERE database_name = current_database() AND schema_name = $1 AND table_name = $2 UNION ALL SELECT 'view' AS kind FROM duckdb_views() WHERE NOT internal AND database_name = current_database() AND schema_name = $3 AND view_name = $4
-- params: ["analytics","target","analytics","target"];

SELECT count(*) AS n FROM "analytics"."target";

SELECT 'pre';

DROP TABLE IF EXISTS "analytics"."target__tau_new";

CREATE TABLE "analytics"."target__tau_new" AS SELECT * FROM (SELECT * FROM raw.source) AS src;

ALTER TABLE "analytics"."target" RENAME TO "target__tau_old";

ALTER TABLE "analytics"."target__tau_new" RENAME TO "target";

DROP TABLE IF EXISTS "analytics"."target__tau_old";

SELECT 'post';

SELECT count(*) AS n FROM "analytics"."target";

COMMIT;
