-- bigquery: view

SELECT CASE WHEN table_type = 'VIEW' THEN 'view' ELSE 'table' END AS kind FROM `analytics`.INFORMATION_SCHEMA.TABLES WHERE table_name = ?
-- params: ["target"];

CREATE OR REPLACE VIEW `analytics`.`target` AS SELECT * FROM (SELECT * FROM raw.source) AS src;
