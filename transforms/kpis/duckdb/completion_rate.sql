-- name: completion_rate
-- version: 1
-- kind: rate
-- definition: Workflow cases opened in the period, share with a completed event by the cutoff.
SELECT case_id AS unit_id, case_id, opened_at AS period_ts,
       true AS den, completed_at IS NOT NULL AS num, NULL::DOUBLE AS value, NULL AS detail
FROM case_facts
WHERE workflow IS NOT NULL AND opened_at >= $1 AND opened_at < $2
