-- redshift: view

BEGIN;

SELECT CASE WHEN table_type = 'VIEW' THEN 'view' ELSE 'table' END AS kind FROM svv_tables WHERE table_schema = $1 AND table_name = $2
-- params: ["analytics","target"];

LOCK "analytics"."target";

SELECT CASE WHEN table_type = 'VIEW' THEN 'view' ELSE 'table' END AS kind FROM svv_tables WHERE table_schema = $1 AND table_name = $2
-- params: ["analytics","target"];

DROP VIEW "analytics"."target";

CREATE VIEW "analytics"."target" AS SELECT * FROM (SELECT * FROM raw.source) AS src;

COMMIT;
