-- bigquery: scd_type_2_first

SELECT CASE WHEN table_type = 'VIEW' THEN 'view' ELSE 'table' END AS kind FROM `analytics`.INFORMATION_SCHEMA.TABLES WHERE table_name = ?
-- params: ["target"];

SELECT column_name AS name, data_type AS type FROM `analytics`.INFORMATION_SCHEMA.COLUMNS WHERE table_name = ? ORDER BY ordinal_position
-- params: ["target"];

CREATE SCHEMA IF NOT EXISTS `analytics`;

CREATE TABLE `analytics`.`target__tau_stage_0001` OPTIONS (expiration_timestamp = TIMESTAMP_ADD(CURRENT_TIMESTAMP(), INTERVAL 1 DAY)) AS SELECT src.*, TO_HEX(MD5(CONCAT(CASE WHEN src.`name` IS NULL THEN 'N' ELSE CONCAT('V', CAST(LENGTH(CAST(src.`name` AS STRING)) AS STRING), ':', CAST(src.`name` AS STRING)) END, CASE WHEN src.`event_date` IS NULL THEN 'N' ELSE CONCAT('V', CAST(LENGTH(CAST(src.`event_date` AS STRING)) AS STRING), ':', CAST(src.`event_date` AS STRING)) END))) AS `row_hash` FROM (SELECT * FROM raw.source) AS src;

SELECT column_name AS name, data_type AS type FROM `analytics`.INFORMATION_SCHEMA.COLUMNS WHERE table_name = ? ORDER BY ordinal_position
-- params: ["target__tau_stage_0001"];

SELECT count(*) AS n FROM `analytics`.`target__tau_stage_0001` AS s WHERE s.`id` IS NULL;

SELECT s.`id`, count(*) AS n FROM `analytics`.`target__tau_stage_0001` AS s GROUP BY s.`id` HAVING count(*) > 1 ORDER BY n DESC, s.`id` LIMIT 5;

SELECT count(*) AS n FROM `analytics`.`target__tau_stage_0001`;

CREATE TABLE `analytics`.`target` AS SELECT s.*, CAST(? AS TIMESTAMP) AS `valid_from`, CAST(NULL AS TIMESTAMP) AS `valid_to`, TRUE AS `is_current` FROM `analytics`.`target__tau_stage_0001` AS s
-- params: ["2026-03-01 06:00:00.000+00"];

DROP TABLE IF EXISTS `analytics`.`target__tau_stage_0001`;
