-- snowflake: view

SELECT CASE WHEN table_type = 'VIEW' THEN 'view' ELSE 'table' END AS "kind" FROM information_schema.tables WHERE table_schema = ? AND table_name = ?
-- params: ["analytics","target"];

CREATE OR REPLACE VIEW "analytics"."target" AS SELECT * FROM (SELECT * FROM raw.source) AS src;
