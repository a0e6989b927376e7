-- name: writeback_success
-- version: 1
-- kind: rate
-- definition: Workflow cases completed in the period, share with an automatic (manual = false) successful writeback at or after completion, by the cutoff; retries of one idempotency_key are one writeback.
SELECT case_id AS unit_id, case_id, completed_at AS period_ts,
       true AS den, writeback_ok AS num, NULL::DOUBLE AS value, NULL AS detail
FROM case_facts
WHERE workflow IS NOT NULL AND completed_at >= $1 AND completed_at < $2
