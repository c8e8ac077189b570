-- redshift: incremental_delete_insert

BEGIN;

SELECT CASE WHEN table_type = 'VIEW' THEN 'view' ELSE 'table' END AS kind FROM svv_tables WHERE table_schema = $1 AND table_name = $2
-- params: ["analytics","target"];

LOCK "analytics"."target";

SELECT CASE WHEN table_type = 'VIEW' THEN 'view' ELSE 'table' END AS kind FROM svv_tables WHERE table_schema = $1 AND table_name = $2
-- params: ["analytics","target"];

SELECT column_name AS name, data_type AS type FROM svv_columns WHERE table_schema = $1 AND table_name = $2 ORDER BY ordinal_position
-- params: ["analytics","target"];

CREATE TEMP TABLE "target__tau_stage_0001" AS SELECT src.* FROM (SELECT * FROM raw.source) AS src;

SELECT column_name AS name, data_type AS type FROM svv_columns WHERE table_schema LIKE 'pg_temp_%' AND table_name = $1 ORDER BY ordinal_position
-- params: ["target__tau_stage_0001"];

SELECT count(*) AS n FROM "target__tau_stage_0001" AS s WHERE s."id" IS NULL OR s."name" IS NULL;

SELECT s."id", s."name", count(*) AS n FROM "target__tau_stage_0001" AS s GROUP BY s."id", s."name" HAVING count(*) > 1 ORDER BY n DESC, s."id", s."name" LIMIT 5;

SELECT count(*) AS n FROM "target__tau_stage_0001";

SELECT count(*) AS n FROM "analytics"."target" AS t WHERE EXISTS (SELECT 1 FROM "target__tau_stage_0001" AS i WHERE i."id" = t."id" AND i."name" = t."name");

DELETE FROM "analytics"."target" AS t WHERE EXISTS (SELECT 1 FROM "target__tau_stage_0001" AS i WHERE i."id" = t."id" AND i."name" = t."name");

INSERT INTO "analytics"."target" ("id", "name", "event_date", "updated_at") SELECT s."id", s."name", s."event_date", s."updated_at" FROM "target__tau_stage_0001" AS s;

DROP TABLE IF EXISTS "target__tau_stage_0001";

COMMIT;
