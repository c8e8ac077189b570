-- bigquery: scd_type_2

SELECT CASE WHEN table_type = 'VIEW' THEN 'view' ELSE 'table' END AS kind FROM `analytics`.INFORMATION_SCHEMA.TABLES WHERE table_name = ?
-- params: ["target"];

SELECT column_name AS name, data_type AS type FROM `analytics`.INFORMATION_SCHEMA.COLUMNS WHERE table_name = ? ORDER BY ordinal_position
-- params: ["target"];

CREATE TABLE `analytics`.`target__tau_stage_0001` OPTIONS (expiration_timestamp = TIMESTAMP_ADD(CURRENT_TIMESTAMP(), INTERVAL 1 DAY)) AS SELECT src.*, TO_HEX(MD5(CONCAT(CASE WHEN src.`name` IS NULL THEN 'N' ELSE CONCAT('V', CAST(LENGTH(CAST(src.`name` AS STRING)) AS STRING), ':', CAST(src.`name` AS STRING)) END, CASE WHEN src.`event_date` IS NULL THEN 'N' ELSE CONCAT('V', CAST(LENGTH(CAST(src.`event_date` AS STRING)) AS STRING), ':', CAST(src.`event_date` AS STRING)) END))) AS `row_hash` FROM (SELECT * FROM raw.source) AS src;

SELECT column_name AS name, data_type AS type FROM `analytics`.INFORMATION_SCHEMA.COLUMNS WHERE table_name = ? ORDER BY ordinal_position
-- params: ["target__tau_stage_0001"];

SELECT count(*) AS n FROM `analytics`.`target__tau_stage_0001` AS s WHERE s.`id` IS NULL;

SELECT s.`id`, count(*) AS n FROM `analytics`.`target__tau_stage_0001` AS s GROUP BY s.`id` HAVING count(*) > 1 ORDER BY n DESC, s.`id` LIMIT 5;

SELECT count(*) AS n FROM `analytics`.`target__tau_stage_0001`;

SELECT count(*) AS n FROM `analytics`.`target` AS t WHERE t.`is_current` AND EXISTS (SELECT 1 FROM `analytics`.`target__tau_stage_0001` AS i WHERE i.`id` = t.`id` AND (i.`row_hash` IS DISTINCT FROM t.`row_hash`));

SELECT count(*) AS n FROM `analytics`.`target` AS t WHERE t.`is_current` AND NOT EXISTS (SELECT 1 FROM `analytics`.`target__tau_stage_0001` AS i WHERE i.`id` = t.`id`);

SELECT count(*) AS n FROM `analytics`.`target__tau_stage_0001` AS s WHERE NOT EXISTS (SELECT 1 FROM (SELECT * FROM `analytics`.`target` WHERE `is_current`) AS i WHERE i.`id` = s.`id` AND i.`row_hash` = s.`row_hash`);

-- one request:
BEGIN TRANSACTION;
UPDATE `analytics`.`target` AS t SET `valid_to` = CAST(? AS TIMESTAMP), `is_current` = FALSE WHERE t.`is_current` AND EXISTS (SELECT 1 FROM `analytics`.`target__tau_stage_0001` AS i WHERE i.`id` = t.`id` AND (i.`row_hash` IS DISTINCT FROM t.`row_hash`));
UPDATE `analytics`.`target` AS t SET `valid_to` = CAST(? AS TIMESTAMP), `is_current` = FALSE WHERE t.`is_current` AND NOT EXISTS (SELECT 1 FROM `analytics`.`target__tau_stage_0001` AS i WHERE i.`id` = t.`id`);
INSERT INTO `analytics`.`target` (`id`, `name`, `event_date`, `updated_at`, `row_hash`, `valid_from`, `valid_to`, `is_current`) SELECT s.`id`, s.`name`, s.`event_date`, s.`updated_at`, s.`row_hash`, CAST(? AS TIMESTAMP), CAST(NULL AS TIMESTAMP), TRUE FROM `analytics`.`target__tau_stage_0001` AS s WHERE NOT EXISTS (SELECT 1 FROM (SELECT * FROM `analytics`.`target` WHERE `is_current`) AS i WHERE i.`id` = s.`id`);
COMMIT TRANSACTION
-- params: ["2026-03-01 06:00:00.000+00","2026-03-01 06:00:00.000+00","2026-03-01 06:00:00.000+00"];

DROP TABLE IF EXISTS `analytics`.`target__tau_stage_0001`;
