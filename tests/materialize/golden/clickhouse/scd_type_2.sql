-- clickhouse: scd_type_2

SELECT if(engine = 'View', 'view', 'table') AS kind FROM system.tables WHERE database = {p1:String} AND table = {p2:String}
-- params: ["analytics","target"];

SELECT name, type FROM system.columns WHERE database = {p1:String} AND table = {p2:String} ORDER BY position
-- params: ["analytics","target"];

CREATE TABLE `analytics`.`target__tau_stage_0001` ENGINE = MergeTree ORDER BY tuple() AS SELECT src.*, lower(hex(MD5(concat(if(isNull(src.`name`), 'N', concat('V', toString(length(toString(src.`name`))), ':', toString(src.`name`))), if(isNull(src.`event_date`), 'N', concat('V', toString(length(toString(src.`event_date`))), ':', toString(src.`event_date`))))))) AS `row_hash` FROM (SELECT * FROM raw.source) AS src;

SELECT name, type FROM system.columns WHERE database = {p1:String} AND table = {p2:String} ORDER BY position
-- params: ["analytics","target__tau_stage_0001"];

SELECT count(*) AS n FROM `analytics`.`target__tau_stage_0001` AS s WHERE s.`id` IS NULL;

SELECT s.`id`, count(*) AS n FROM `analytics`.`target__tau_stage_0001` AS s GROUP BY s.`id` HAVING count(*) > 1 ORDER BY n DESC, s.`id` LIMIT 5;

SELECT count(*) AS n FROM `analytics`.`target__tau_stage_0001`;

SELECT count(*) AS n FROM `analytics`.`target` AS t WHERE `is_current` AND (`id`) IN (SELECT i.`id` FROM `analytics`.`target__tau_stage_0001` AS i) AND (`id`, lower(hex(MD5(concat(if(isNull(`row_hash`), 'N', concat('V', toString(length(toString(`row_hash`))), ':', toString(`row_hash`)))))))) NOT IN (SELECT i.`id`, lower(hex(MD5(concat(if(isNull(i.`row_hash`), 'N', concat('V', toString(length(toString(i.`row_hash`))), ':', toString(i.`row_hash`))))))) FROM `analytics`.`target__tau_stage_0001` AS i);

SELECT count(*) AS n FROM `analytics`.`target` AS t WHERE `is_current` AND NOT (`id`) IN (SELECT i.`id` FROM `analytics`.`target__tau_stage_0001` AS i);

SELECT count(*) AS n FROM `analytics`.`target__tau_stage_0001` AS s WHERE NOT (s.`id`, s.`row_hash`) IN (SELECT i.`id`, i.`row_hash` FROM (SELECT * FROM `analytics`.`target` WHERE `is_current`) AS i);

ALTER TABLE `analytics`.`target` UPDATE `valid_to` = CAST({p1:String} AS DateTime64(6, 'UTC')), `is_current` = FALSE WHERE `is_current` AND (`id`) IN (SELECT i.`id` FROM `analytics`.`target__tau_stage_0001` AS i) AND (`id`, lower(hex(MD5(concat(if(isNull(`row_hash`), 'N', concat('V', toString(length(toString(`row_hash`))), ':', toString(`row_hash`)))))))) NOT IN (SELECT i.`id`, lower(hex(MD5(concat(if(isNull(i.`row_hash`), 'N', concat('V', toString(length(toString(i.`row_hash`))), ':', toString(i.`row_hash`))))))) FROM `analytics`.`target__tau_stage_0001` AS i) SETTINGS mutations_sync = 2
-- params: ["2026-03-01 06:00:00.000"];

ALTER TABLE `analytics`.`target` UPDATE `valid_to` = CAST({p1:String} AS DateTime64(6, 'UTC')), `is_current` = FALSE WHERE `is_current` AND NOT (`id`) IN (SELECT i.`id` FROM `analytics`.`target__tau_stage_0001` AS i) SETTINGS mutations_sync = 2
-- params: ["2026-03-01 06:00:00.000"];

INSERT INTO `analytics`.`target` (`id`, `name`, `event_date`, `updated_at`, `row_hash`, `valid_from`, `valid_to`, `is_current`) SELECT s.`id`, s.`name`, s.`event_date`, s.`updated_at`, s.`row_hash`, CAST({p1:String} AS DateTime64(6, 'UTC')), CAST(NULL AS Nullable(DateTime64(6, 'UTC'))), TRUE FROM `analytics`.`target__tau_stage_0001` AS s WHERE NOT (s.`id`) IN (SELECT i.`id` FROM (SELECT * FROM `analytics`.`target` WHERE `is_current`) AS i)
-- params: ["2026-03-01 06:00:00.000"];

DROP TABLE IF EXISTS `analytics`.`target__tau_stage_0001`;
