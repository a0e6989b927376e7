-- name: completion_rate
-- version: 1
-- kind: rate
-- definition: Workflow cases opened in the period, share with a completed event by the cutoff.
SELECT case_id AS unit_id, case_id, opened_at AS period_ts,
       1 AS den, isNotNull(completed_at) AS num, CAST(NULL AS Nullable(Float64)) AS value,
       CAST(NULL AS Nullable(String)) AS detail
FROM case_facts
WHERE isNotNull(workflow) AND opened_at >= $1 AND opened_at < $2
