-- clickhouse: view

SELECT if(engine = 'View', 'view', 'table') AS kind FROM system.tables WHERE database = {p1:String} AND table = {p2:String}
-- params: ["analytics","target"];

CREATE OR REPLACE VIEW `analytics`.`target` AS SELECT * FROM (SELECT * FROM raw.source) AS src;
