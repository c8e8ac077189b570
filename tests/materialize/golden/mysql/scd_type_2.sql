-- mysql: scd_type_2

SELECT CASE WHEN TABLE_TYPE = 'VIEW' THEN 'view' ELSE 'table' END AS kind FROM information_schema.TABLES WHERE TABLE_SCHEMA = ? AND TABLE_NAME = ?
-- params: ["analytics","target"];

SELECT GET_LOCK(?, 3600) AS acquired
-- params: ["tau.materialize:analytics.target"];

SELECT CASE WHEN TABLE_TYPE = 'VIEW' THEN 'view' ELSE 'table' END AS kind FROM information_schema.TABLES WHERE TABLE_SCHEMA = ? AND TABLE_NAME = ?
-- params: ["analytics","target"];

SELECT COLUMN_NAME AS name, COLUMN_TYPE AS type FROM information_schema.COLUMNS WHERE TABLE_SCHEMA = ? AND TABLE_NAME = ? ORDER BY ORDINAL_POSITION
-- params: ["analytics","target"];

CREATE TEMPORARY TABLE `target__tau_stage_0001` AS SELECT src.*, MD5(CONCAT(CASE WHEN src.`name` IS NULL THEN 'N' ELSE CONCAT('V', CHAR_LENGTH(CAST(src.`name` AS CHAR)), ':', CAST(src.`name` AS CHAR)) END, CASE WHEN src.`event_date` IS NULL THEN 'N' ELSE CONCAT('V', CHAR_LENGTH(CAST(src.`event_date` AS CHAR)), ':', CAST(src.`event_date` AS CHAR)) END)) AS `row_hash` FROM (SELECT * FROM raw.source) AS src;

SHOW COLUMNS FROM `target__tau_stage_0001`;

SELECT count(*) AS n FROM `target__tau_stage_0001` AS s WHERE s.`id` IS NULL;

SELECT s.`id`, count(*) AS n FROM `target__tau_stage_0001` AS s GROUP BY s.`id` HAVING count(*) > 1 ORDER BY n DESC, s.`id` LIMIT 5;

SELECT count(*) AS n FROM `target__tau_stage_0001`;

SELECT count(*) AS n FROM `analytics`.`target` AS t WHERE t.`is_current` AND EXISTS (SELECT 1 FROM `target__tau_stage_0001` AS i WHERE i.`id` = t.`id` AND (NOT (i.`row_hash` <=> t.`row_hash`)));

SELECT count(*) AS n FROM `analytics`.`target` AS t WHERE t.`is_current` AND NOT EXISTS (SELECT 1 FROM `target__tau_stage_0001` AS i WHERE i.`id` = t.`id`);

SELECT count(*) AS n FROM `target__tau_stage_0001` AS s WHERE NOT EXISTS (SELECT 1 FROM (SELECT * FROM `analytics`.`target` WHERE `is_current`) AS i WHERE i.`id` = s.`id` AND i.`row_hash` = s.`row_hash`);

START TRANSACTION;

UPDATE `analytics`.`target` AS t SET t.`valid_to` = CAST(? AS DATETIME(6)), t.`is_current` = FALSE WHERE t.`is_current` AND EXISTS (SELECT 1 FROM `target__tau_stage_0001` AS i WHERE i.`id` = t.`id` AND (NOT (i.`row_hash` <=> t.`row_hash`)))
-- params: ["2026-03-01 06:00:00.000"];

UPDATE `analytics`.`target` AS t SET t.`valid_to` = CAST(? AS DATETIME(6)), t.`is_current` = FALSE WHERE t.`is_current` AND NOT EXISTS (SELECT 1 FROM `target__tau_stage_0001` AS i WHERE i.`id` = t.`id`)
-- params: ["2026-03-01 06:00:00.000"];

INSERT INTO `analytics`.`target` (`id`, `name`, `event_date`, `updated_at`, `row_hash`, `valid_from`, `valid_to`, `is_current`) SELECT s.`id`, s.`name`, s.`event_date`, s.`updated_at`, s.`row_hash`, CAST(? AS DATETIME(6)), CAST(NULL AS DATETIME(6)), TRUE FROM `target__tau_stage_0001` AS s WHERE NOT EXISTS (SELECT 1 FROM (SELECT * FROM `analytics`.`target` WHERE `is_current`) AS i WHERE i.`id` = s.`id`)
-- params: ["2026-03-01 06:00:00.000"];

COMMIT;

DROP TABLE IF EXISTS `target__tau_stage_0001`;

SELECT RELEASE_LOCK(?) AS released
-- params: ["tau.materialize:analytics.target"];
