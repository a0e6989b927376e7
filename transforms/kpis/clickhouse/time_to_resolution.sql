-- name: time_to_resolution
-- version: 1
-- kind: percentile
-- unit: seconds
-- definition: Workflow cases completed in the period: calendar time from opened to completed, p50 and p90 by nearest rank.
SELECT case_id AS unit_id, case_id, completed_at AS period_ts,
       1 AS den, 1 AS num,
       (completed_at - opened_at) / 1000 AS value, CAST(NULL AS Nullable(String)) AS detail
FROM case_facts
WHERE isNotNull(workflow) AND isNotNull(completed_at) AND completed_at >= $1 AND completed_at < $2
