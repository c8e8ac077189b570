-- clickhouse: snapshot

SELECT if(engine = 'View', 'view', 'table') AS kind FROM system.tables WHERE database = {p1:String} AND table = {p2:String}
-- params: ["analytics","target"];

SELECT name, type FROM system.columns WHERE database = {p1:String} AND table = {p2:String} ORDER BY position
-- params: ["analytics","target"];

CREATE TABLE `analytics`.`target__tau_stage_0001` ENGINE = MergeTree ORDER BY tuple() AS SELECT src.* FROM (SELECT * FROM raw.source) AS src;

SELECT name, type FROM system.columns WHERE database = {p1:String} AND table = {p2:String} ORDER BY position
-- params: ["analytics","target__tau_stage_0001"];

SELECT count(*) AS n FROM `analytics`.`target__tau_stage_0001`;

SELECT coalesce(max(`snapshot_id`), 0) AS n FROM `analytics`.`target`;

SELECT count(*) AS n FROM `analytics`.`target` AS t WHERE `snapshot_id` <= CAST({p1:String} AS Int64)
-- params: [2];

INSERT INTO `analytics`.`target` (`id`, `name`, `event_date`, `updated_at`, `snapshot_id`, `snapshot_at`) SELECT s.`id`, s.`name`, s.`event_date`, s.`updated_at`, CAST({p1:String} AS Int64), CAST({p2:String} AS DateTime64(6, 'UTC')) FROM `analytics`.`target__tau_stage_0001` AS s
-- params: [5,"2026-03-01 06:00:00.000"];

DELETE FROM `analytics`.`target` WHERE `snapshot_id` <= CAST({p1:String} AS Int64)
-- params: [2];

DROP TABLE IF EXISTS `analytics`.`target__tau_stage_0001`;
