-- duckdb: incremental_merge

BEGIN;

SELECT 'table' AS kind FROM duckdb_tables() WHERE database_name = current_database() AND schema_name = $1 AND table_name = $2 UNION ALL SELECT 'view' AS kind FROM duckdb_views() WHERE NOT internal AND database_name = current_database() AND schema_name = $3 AND view_name = $4
-- params: ["analytics","target","analytics","target"];

SELECT column_name AS name, data_type AS type FROM duckdb_columns() WHERE database_name = current_database() AND schema_name = $1 AND table_name = $2 ORDER BY column_index
-- params: ["analytics","target"];

SELECT 1 AS marked FROM "analytics"."target" WHERE "updated_at" IS NOT NULL LIMIT 1;

CREATE TEMP TABLE "target__tau_stage_0001" AS SELECT src.* FROM (SELECT * FROM raw.source) AS src WHERE src."updated_at" > (SELECT max("updated_at") FROM "analytics"."target");

SELECT column_name AS name, data_type AS type FROM duckdb_columns() WHERE database_name = 'temp' AND schema_name = $1 AND table_name = $2 ORDER BY column_index
-- params: ["main","target__tau_stage_0001"];

SELECT count(*) AS n FROM "target__tau_stage_0001" AS s WHERE s."id" IS NULL;

SELECT s."id", count(*) AS n FROM "target__tau_stage_0001" AS s GROUP BY s."id" HAVING count(*) > 1 ORDER BY n DESC, s."id" LIMIT 5;

SELECT count(*) AS n FROM "target__tau_stage_0001";

SELECT count(*) AS n FROM "target__tau_stage_0001" AS s WHERE EXISTS (SELECT 1 FROM "analytics"."target" AS i WHERE i."id" = s."id");

MERGE INTO "analytics"."target" AS t USING "target__tau_stage_0001" AS s ON t."id" = s."id" WHEN MATCHED THEN UPDATE SET "name" = s."name", "event_date" = s."event_date", "updated_at" = s."updated_at" WHEN NOT MATCHED THEN INSERT ("id", "name", "event_date", "updated_at") VALUES (s."id", s."name", s."event_date", s."updated_at");

DROP TABLE IF EXISTS "target__tau_stage_0001";

COMMIT;
