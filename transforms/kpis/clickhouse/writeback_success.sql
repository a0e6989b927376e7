-- name: writeback_success
-- version: 1
-- kind: rate
-- definition: Workflow cases completed in the period, share with an automatic (manual = false) successful writeback at or after completion, by the cutoff; retries of one idempotency_key are one writeback.
SELECT case_id AS unit_id, case_id, completed_at AS period_ts,
       1 AS den, writeback_ok AS num, CAST(NULL AS Nullable(Float64)) AS value, CAST(NULL AS Nullable(String)) AS detail
FROM case_facts
WHERE isNotNull(workflow) AND isNotNull(completed_at) AND completed_at >= $1 AND completed_at < $2
