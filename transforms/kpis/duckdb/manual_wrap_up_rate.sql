-- name: manual_wrap_up_rate
-- version: 1
-- kind: rate
-- definition: Workflow cases completed in the period, share that also have a writeback done by hand (manual = true) by the cutoff.
SELECT case_id AS unit_id, case_id, completed_at AS period_ts,
       true AS den, manual_wrap_up AS num, NULL::DOUBLE AS value, NULL AS detail
FROM case_facts
WHERE workflow IS NOT NULL AND completed_at >= $1 AND completed_at < $2
