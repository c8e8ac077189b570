-- bigquery: full_refresh_first

SELECT CASE WHEN table_type = 'VIEW' THEN 'view' ELSE 'table' END AS kind FROM `analytics`.INFORMATION_SCHEMA.TABLES WHERE table_name = ?
-- params: ["target"];

CREATE SCHEMA IF NOT EXISTS `analytics`;

CREATE TABLE `analytics`.`target` AS SELECT * FROM (SELECT * FROM raw.source) AS src;

SELECT count(*) AS n FROM `analytics`.`target`;
