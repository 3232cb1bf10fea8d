-- The -q per-server table, from the streams table of a --parquet export (one capture or
-- many, rotated with -b or not). Runs unchanged on DuckDB and Spark SQL. Percentiles are
-- nearest-rank, as -q's. A rotated export also has rows of streams still open at a rotation
-- (their state so far): each stream has exactly one row with hs_open_at_rotation false.
WITH s AS (
  SELECT hs_server_endpoint AS server, hs_outcome AS outcome,
         tcp_analysis_initial_rtt AS rtt
  FROM streams
  WHERE hs_server_endpoint IS NOT NULL AND NOT hs_open_at_rotation
),
t AS (
  SELECT server,
         SUM(CASE WHEN outcome <> 'mid_stream' THEN 1 ELSE 0 END) AS attempts,
         SUM(CASE WHEN outcome = 'completed' THEN 1 ELSE 0 END) AS completed,
         SUM(CASE WHEN outcome = 'refused' THEN 1 ELSE 0 END) AS refused,
         SUM(CASE WHEN outcome = 'half_open' THEN 1 ELSE 0 END) AS half_open,
         SUM(CASE WHEN outcome = 'reset' THEN 1 ELSE 0 END) AS reset
  FROM s
  GROUP BY server
),
r AS (
  SELECT server, rtt,
         ROW_NUMBER() OVER (PARTITION BY server ORDER BY rtt) AS rn,
         COUNT(*) OVER (PARTITION BY server) AS n
  FROM s
  WHERE rtt IS NOT NULL
),
p AS (
  SELECT server,
         MAX(CASE WHEN rn = GREATEST(CAST(CEIL(CAST(0.50 AS DOUBLE) * n) AS BIGINT), 1) THEN rtt END) AS p50,
         MAX(CASE WHEN rn = GREATEST(CAST(CEIL(CAST(0.90 AS DOUBLE) * n) AS BIGINT), 1) THEN rtt END) AS p90,
         MAX(CASE WHEN rn = GREATEST(CAST(CEIL(CAST(0.99 AS DOUBLE) * n) AS BIGINT), 1) THEN rtt END) AS p99,
         MAX(rtt) AS mx
  FROM r
  GROUP BY server
)
SELECT t.server, t.attempts, t.completed, t.refused, t.half_open, t.reset,
       p.p50 * 1000 AS p50_ms, p.p90 * 1000 AS p90_ms, p.p99 * 1000 AS p99_ms,
       p.mx * 1000 AS max_ms
FROM t LEFT JOIN p ON t.server = p.server
ORDER BY t.attempts DESC, t.server
