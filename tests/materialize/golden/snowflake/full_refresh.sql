-- snowflake: full_refresh

SELECT CASE WHEN table_type = 'VIEW' THEN 'view' ELSE 'table' END AS "kind" FROM information_schema.tables WHERE table_schema = ? AND table_name = ?
-- params: ["analytics","target"];

SELECT count(*) AS n FROM "analytics"."target";

SELECT 'pre';

DROP TABLE IF EXISTS "analytics"."target__tau_new";

CREATE TABLE "analytics"."target__tau_new" AS SELECT * FROM (SELECT * FROM raw.source) AS src;

ALTER TABLE "analytics"."target" SWAP WITH "analytics"."target__tau_new";

DROP TABLE IF EXISTS "analytics"."target__tau_new";

SELECT 'post';

SELECT count(*) AS n FROM "analytics"."target";
