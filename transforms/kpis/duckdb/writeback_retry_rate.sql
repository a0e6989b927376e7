-- name: writeback_retry_rate
-- version: 1
-- kind: rate
-- definition: Automatic writebacks (distinct idempotency_key, manual = false) of workflow cases completed in the period, share that took more than one attempt.
SELECT w.writeback_key AS unit_id, c.case_id, c.completed_at AS period_ts,
       true AS den, w.attempts > 1 AS num, NULL::DOUBLE AS value, w.target_system AS detail
FROM case_facts c
JOIN fact_writebacks w ON w.case_id = c.case_id
WHERE c.workflow IS NOT NULL AND c.completed_at >= $1 AND c.completed_at < $2
  AND NOT w.manual
