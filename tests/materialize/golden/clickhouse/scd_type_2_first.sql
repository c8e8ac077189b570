-- clickhouse: scd_type_2_first

SELECT if(engine = 'View', 'view', 'table') AS kind FROM system.tables WHERE database = {p1:String} AND table = {p2:String}
-- params: ["analytics","target"];

SELECT name, type FROM system.columns WHERE database = {p1:String} AND table = {p2:String} ORDER BY position
-- params: ["analytics","target"];

CREATE DATABASE IF NOT EXISTS `analytics`;

CREATE TABLE `analytics`.`target__tau_stage_0001` ENGINE = MergeTree ORDER BY tuple() AS SELECT src.*, lower(hex(MD5(concat(if(isNull(src.`name`), 'N', concat('V', toString(length(toString(src.`name`))), ':', toString(src.`name`))), if(isNull(src.`event_date`), 'N', concat('V', toString(length(toString(src.`event_date`))), ':', toString(src.`event_date`))))))) AS `row_hash` FROM (SELECT * FROM raw.source) AS src;

SELECT name, type FROM system.columns WHERE database = {p1:String} AND table = {p2:String} ORDER BY position
-- params: ["analytics","target__tau_stage_0001"];

SELECT count(*) AS n FROM `analytics`.`target__tau_stage_0001` AS s WHERE s.`id` IS NULL;

SELECT s.`id`, count(*) AS n FROM `analytics`.`target__tau_stage_0001` AS s GROUP BY s.`id` HAVING count(*) > 1 ORDER BY n DESC, s.`id` LIMIT 5;

SELECT count(*) AS n FROM `analytics`.`target__tau_stage_0001`;

CREATE TABLE `analytics`.`target` ENGINE = MergeTree ORDER BY tuple() AS SELECT s.*, CAST({p1:String} AS DateTime64(6, 'UTC')) AS `valid_from`, CAST(NULL AS Nullable(DateTime64(6, 'UTC'))) AS `valid_to`, TRUE AS `is_current` FROM `analytics`.`target__tau_stage_0001` AS s
-- params: ["2026-03-01 06:00:00.000"];

DROP TABLE IF EXISTS `analytics`.`target__tau_stage_0001`;
