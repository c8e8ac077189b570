-- bigquery: partitioned

SELECT CASE WHEN table_type = 'VIEW' THEN 'view' ELSE 'table' END AS kind FROM `analytics`.INFORMATION_SCHEMA.TABLES WHERE table_name = ?
-- params: ["target"];

SELECT column_name AS name, data_type AS type FROM `analytics`.INFORMATION_SCHEMA.COLUMNS WHERE table_name = ? ORDER BY ordinal_position
-- params: ["target"];

CREATE TABLE `analytics`.`target__tau_stage_0001` OPTIONS (expiration_timestamp = TIMESTAMP_ADD(CURRENT_TIMESTAMP(), INTERVAL 1 DAY)) AS SELECT src.* FROM (SELECT * FROM raw.source) AS src WHERE CAST(src.`event_date` AS TIMESTAMP) >= CAST(? AS TIMESTAMP)
-- params: ["2025-12-01 00:00:00.000+00"];

SELECT column_name AS name, data_type AS type FROM `analytics`.INFORMATION_SCHEMA.COLUMNS WHERE table_name = ? ORDER BY ordinal_position
-- params: ["target__tau_stage_0001"];

SELECT count(*) AS n FROM `analytics`.`target__tau_stage_0001`;

SELECT count(*) AS n FROM `analytics`.`target` AS t WHERE DATE_TRUNC(t.`event_date`, DAY) IN (SELECT DISTINCT DATE_TRUNC(s.`event_date`, DAY) FROM `analytics`.`target__tau_stage_0001` AS s);

-- one request:
BEGIN TRANSACTION;
DELETE FROM `analytics`.`target` AS t WHERE DATE_TRUNC(t.`event_date`, DAY) IN (SELECT DISTINCT DATE_TRUNC(s.`event_date`, DAY) FROM `analytics`.`target__tau_stage_0001` AS s);
INSERT INTO `analytics`.`target` (`id`, `name`, `event_date`, `updated_at`) SELECT s.`id`, s.`name`, s.`event_date`, s.`updated_at` FROM `analytics`.`target__tau_stage_0001` AS s;
COMMIT TRANSACTION
-- params: [];

DROP TABLE IF EXISTS `analytics`.`target__tau_stage_0001`;
