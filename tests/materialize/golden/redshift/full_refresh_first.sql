-- redshift: full_refresh_first

BEGIN;

SELECT CASE WHEN table_type = 'VIEW' THEN 'view' ELSE 'table' END AS kind FROM svv_tables WHERE table_schema = $1 AND table_name = $2
-- params: ["analytics","target"];

CREATE SCHEMA IF NOT EXISTS "analytics";

CREATE TABLE "analytics"."target" AS SELECT * FROM (SELECT * FROM raw.source) AS src;

SELECT count(*) AS n FROM "analytics"."target";

COMMIT;
