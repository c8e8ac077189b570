-- clickhouse: partitioned_first

SELECT if(engine = 'View', 'view', 'table') AS kind FROM system.tables WHERE database = {p1:String} AND table = {p2:String}
-- params: ["analytics","target"];

SELECT name, type FROM system.columns WHERE database = {p1:String} AND table = {p2:String} ORDER BY position
-- params: ["analytics","target"];

CREATE DATABASE IF NOT EXISTS `analytics`;

CREATE TABLE `analytics`.`target__tau_stage_0001` ENGINE = MergeTree ORDER BY tuple() AS SELECT src.* FROM (SELECT * FROM raw.source) AS src WHERE CAST(src.`event_date` AS DateTime64(6, 'UTC')) >= CAST({p1:String} AS DateTime64(6, 'UTC'))
-- params: ["2025-12-01 00:00:00.000"];

SELECT name, type FROM system.columns WHERE database = {p1:String} AND table = {p2:String} ORDER BY position
-- params: ["analytics","target__tau_stage_0001"];

SELECT count(*) AS n FROM `analytics`.`target__tau_stage_0001`;

CREATE TABLE `analytics`.`target` ENGINE = MergeTree PARTITION BY toYYYYMMDD(`event_date`) ORDER BY (`id`) TTL toDateTime(`event_date`) + INTERVAL 90 DAY AS SELECT * FROM `analytics`.`target__tau_stage_0001`;

DROP TABLE IF EXISTS `analytics`.`target__tau_stage_0001`;
