-- bigquery: incremental_append

SELECT CASE WHEN table_type = 'VIEW' THEN 'view' ELSE 'table' END AS kind FROM `analytics`.INFORMATION_SCHEMA.TABLES WHERE table_name = ?
-- params: ["target"];

SELECT column_name AS name, data_type AS type FROM `analytics`.INFORMATION_SCHEMA.COLUMNS WHERE table_name = ? ORDER BY ordinal_position
-- params: ["target"];

SELECT 1 AS marked FROM `analytics`.`target` WHERE `updated_at` IS NOT NULL LIMIT 1;

SELECT CAST(max(`updated_at`) AS STRING) AS hwm FROM `analytics`.`target`;

CREATE TABLE `analytics`.`target__tau_stage_0001` OPTIONS (expiration_timestamp = TIMESTAMP_ADD(CURRENT_TIMESTAMP(), INTERVAL 1 DAY)) AS SELECT src.* FROM (SELECT * FROM raw.source) AS src WHERE src.`updated_at` > CAST(? AS TIMESTAMP)
-- params: ["2026-02-28 00:00:00.123456+00"];

SELECT column_name AS name, data_type AS type FROM `analytics`.INFORMATION_SCHEMA.COLUMNS WHERE table_name = ? ORDER BY ordinal_position
-- params: ["target__tau_stage_0001"];

SELECT count(*) AS n FROM `analytics`.`target__tau_stage_0001`;

-- one request:
BEGIN TRANSACTION;
INSERT INTO `analytics`.`target` (`id`, `name`, `event_date`, `updated_at`) SELECT s.`id`, s.`name`, s.`event_date`, s.`updated_at` FROM `analytics`.`target__tau_stage_0001` AS s;
COMMIT TRANSACTION
-- params: [];

DROP TABLE IF EXISTS `analytics`.`target__tau_stage_0001`;
