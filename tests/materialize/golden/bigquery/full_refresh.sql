-- bigquery: full_refresh

SELECT CASE WHEN table_type = 'VIEW' THEN 'view' ELSE 'table' END AS kind FROM `analytics`.INFORMATION_SCHEMA.TABLES WHERE table_name = ?
-- params: ["target"];

SELECT count(*) AS n FROM `analytics`.`target`;

SELECT 'pre';

CREATE OR REPLACE TABLE `analytics`.`target` AS SELECT * FROM (SELECT * FROM raw.source) AS src;

SELECT 'post';

SELECT count(*) AS n FROM `analytics`.`target`;
