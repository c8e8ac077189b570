-- redshift: incremental_append

BEGIN;

SELECT CASE WHEN table_type = 'VIEW' THEN 'view' ELSE 'table' END AS kind FROM svv_tables WHERE table_schema = $1 AND table_name = $2
-- params: ["analytics","target"];

LOCK "analytics"."target";

SELECT CASE WHEN table_type = 'VIEW' THEN 'view' ELSE 'table' END AS kind FROM svv_tables WHERE table_schema = $1 AND table_name = $2
-- params: ["analytics","target"];

SELECT column_name AS name, data_type AS type FROM svv_columns WHERE table_schema = $1 AND table_name = $2 ORDER BY ordinal_position
-- params: ["analytics","target"];

SELECT 1 AS marked FROM "analytics"."target" WHERE "updated_at" IS NOT NULL LIMIT 1;

CREATE TEMP TABLE "target__tau_stage_0001" AS SELECT src.* FROM (SELECT * FROM raw.source) AS src WHERE src."updated_at" > (SELECT max("updated_at") FROM "analytics"."target");

SELECT column_name AS name, data_type AS type FROM svv_columns WHERE table_schema LIKE 'pg_temp_%' AND table_name = $1 ORDER BY ordinal_position
-- params: ["target__tau_stage_0001"];

SELECT count(*) AS n FROM "target__tau_stage_0001";

INSERT INTO "analytics"."target" ("id", "name", "event_date", "updated_at") SELECT s."id", s."name", s."event_date", s."updated_at" FROM "target__tau_stage_0001" AS s;

DROP TABLE IF EXISTS "target__tau_stage_0001";

COMMIT;
