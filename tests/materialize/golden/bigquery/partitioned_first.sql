-- bigquery: partitioned_first

SELECT CASE WHEN table_type = 'VIEW' THEN 'view' ELSE 'table' END AS kind FROM `analytics`.INFORMATION_SCHEMA.TABLES WHERE table_name = ?
-- params: ["target"];

SELECT column_name AS name, data_type AS type FROM `analytics`.INFORMATION_SCHEMA.COLUMNS WHERE table_name = ? ORDER BY ordinal_position
-- params: ["target"];

CREATE SCHEMA IF NOT EXISTS `analytics`;

CREATE TABLE `analytics`.`target__tau_stage_0001` OPTIONS (expiration_timestamp = TIMESTAMP_ADD(CURRENT_TIMESTAMP(), INTERVAL 1 DAY)) AS SELECT src.* FROM (SELECT * FROM raw.source) AS src WHERE CAST(src.`event_date` AS TIMESTAMP) >= CAST(? AS TIMESTAMP)
-- params: ["2025-12-01 00:00:00.000+00"];

SELECT column_name AS name, data_type AS type FROM `analytics`.INFORMATION_SCHEMA.COLUMNS WHERE table_name = ? ORDER BY ordinal_position
-- params: ["target__tau_stage_0001"];

SELECT count(*) AS n FROM `analytics`.`target__tau_stage_0001`;

CREATE TABLE `analytics`.`target` PARTITION BY `event_date` CLUSTER BY `id` OPTIONS (partition_expiration_days = 90) AS SELECT * FROM `analytics`.`target__tau_stage_0001`;

DROP TABLE IF EXISTS `analytics`.`target__tau_stage_0001`;
