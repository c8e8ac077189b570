-- redshift: full_refresh

BEGIN;

SELECT CASE WHEN table_type = 'VIEW' THEN 'view' ELSE 'table' END AS kind FROM svv_tables WHERE table_schema = $1 AND table_name = $2
-- params: ["analytics","target"];

LOCK "analytics"."target";

SELECT CASE WHEN table_type = 'VIEW' THEN 'view' ELSE 'table' END AS kind FROM svv_tables WHERE table_schema = $1 AND table_name = $2
-- params: ["analytics","target"];

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
