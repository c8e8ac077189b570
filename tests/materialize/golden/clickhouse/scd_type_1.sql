-- clickhouse: scd_type_1

SELECT if(engine = 'View', 'view', 'table') AS kind FROM system.tables WHERE database = {p1:String} AND table = {p2:String}
-- params: ["analytics","target"];

SELECT name, type FROM system.columns WHERE database = {p1:String} AND table = {p2:String} ORDER BY position
-- params: ["analytics","target"];

CREATE TABLE `analytics`.`target__tau_stage_0001` ENGINE = MergeTree ORDER BY tuple() AS SELECT src.* FROM (SELECT * FROM raw.source) AS src;

SELECT name, type FROM system.columns WHERE database = {p1:String} AND table = {p2:String} ORDER BY position
-- params: ["analytics","target__tau_stage_0001"];

SELECT count(*) AS n FROM `analytics`.`target__tau_stage_0001` AS s WHERE s.`id` IS NULL;

SELECT s.`id`, count(*) AS n FROM `analytics`.`target__tau_stage_0001` AS s GROUP BY s.`id` HAVING count(*) > 1 ORDER BY n DESC, s.`id` LIMIT 5;

SELECT count(*) AS n FROM `analytics`.`target__tau_stage_0001`;

SELECT count(*) AS n FROM `analytics`.`target__tau_stage_0001` AS s WHERE (s.`id`) IN (SELECT i.`id` FROM `analytics`.`target` AS i) AND (s.`id`, lower(hex(MD5(concat(if(isNull(s.`name`), 'N', concat('V', toString(length(toString(s.`name`))), ':', toString(s.`name`)))))))) NOT IN (SELECT i.`id`, lower(hex(MD5(concat(if(isNull(i.`name`), 'N', concat('V', toString(length(toString(i.`name`))), ':', toString(i.`name`))))))) FROM `analytics`.`target` AS i);

SELECT count(*) AS n FROM `analytics`.`target__tau_stage_0001` AS s WHERE NOT (s.`id`) IN (SELECT i.`id` FROM `analytics`.`target` AS i);

DELETE FROM `analytics`.`target` WHERE (`id`) IN (SELECT i.`id` FROM `analytics`.`target__tau_stage_0001` AS i) AND (`id`, lower(hex(MD5(concat(if(isNull(`name`), 'N', concat('V', toString(length(toString(`name`))), ':', toString(`name`)))))))) NOT IN (SELECT i.`id`, lower(hex(MD5(concat(if(isNull(i.`name`), 'N', concat('V', toString(length(toString(i.`name`))), ':', toString(i.`name`))))))) FROM `analytics`.`target__tau_stage_0001` AS i);

INSERT INTO `analytics`.`target` (`id`, `name`, `event_date`, `updated_at`) SELECT s.`id`, s.`name`, s.`event_date`, s.`updated_at` FROM `analytics`.`target__tau_stage_0001` AS s WHERE NOT (s.`id`) IN (SELECT i.`id` FROM `analytics`.`target` AS i);

DROP TABLE IF EXISTS `analytics`.`target__tau_stage_0001`;
