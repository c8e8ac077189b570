-- snowflake: full_refresh_first

SELECT CASE WHEN table_type = 'VIEW' THEN 'view' ELSE 'table' END AS "kind" FROM information_schema.tables WHERE table_schema = ? AND table_name = ?
-- params: ["analytics","target"];

CREATE SCHEMA IF NOT EXISTS "analytics";

CREATE TABLE "analytics"."target" AS SELECT * FROM (SELECT * FROM raw.source) AS src;

SELECT count(*) AS n FROM "analytics"."target";
