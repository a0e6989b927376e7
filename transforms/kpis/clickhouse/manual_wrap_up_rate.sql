-- name: manual_wrap_up_rate
-- version: 1
-- kind: rate
-- definition: Workflow cases completed in the period, share that also have a writeback done by hand (manual = true) by the cutoff.
SELECT case_id AS unit_id, case_id, completed_at AS period_ts,
       1 AS den, manual_wrap_up AS num, CAST(NULL AS Nullable(Float64)) AS value, CAST(NULL AS Nullable(String)) AS detail
FROM case_facts
WHERE isNotNull(workflow) AND isNotNull(completed_at) AND completed_at >= $1 AND completed_at < $2
