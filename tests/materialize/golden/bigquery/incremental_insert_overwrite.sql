-- bigquery: incremental_insert_overwrite

SELECT CASE WHEN table_type = 'VIEW' THEN 'view' ELSE 'table' END AS kind FROM `analytics`.INFORMATION_SCHEMA.TABLES WHERE table_name = ?
-- params: ["target"];

SELECT column_name AS name, data_type AS type FROM `analytics`.INFORMATION_SCHEMA.COLUMNS WHERE table_name = ? ORDER BY ordinal_position
-- params: ["target"];

CREATE TABLE `analytics`.`target__tau_stage_0001` OPTIONS (expiration_timestamp = TIMESTAMP_ADD(CURRENT_TIMESTAMP(), INTERVAL 1 DAY)) AS SELECT src.* FROM (SELECT * FROM raw.source) AS src;

SELECT column_name AS name, data_type AS type FROM `analytics`.INFORMATION_SCHEMA.COLUMNS WHERE table_name = ? ORDER BY ordinal_position
-- params: ["target__tau_stage_0001"];

SELECT count(*) AS n FROM `analytics`.`target__tau_stage_0001`;

SELECT count(*) AS n FROM `analytics`.`target`;

-- one request:
BEGIN TRANSACTION;
DELETE FROM `analytics`.`target` WHERE TRUE;
INSERT INTO `analytics`.`target` (`id`, `name`, `event_date`, `updated_at`) SELECT s.`id`, s.`name`, s.`event_date`, s.`updated_at` FROM `analytics`.`target__tau_stage_0001` AS s;
COMMIT TRANSACTION
-- params: [];

DROP TABLE IF EXISTS `analytics`.`target__tau_stage_0001`;
