-- name: writeback_retry_rate
-- version: 1
-- kind: rate
-- definition: Automatic writebacks (distinct idempotency_key, manual = false) of workflow cases completed in the period, share that took more than one attempt.
SELECT writeback_key AS unit_id, k_case AS case_id, completed_at AS period_ts,
       1 AS den, w_attempts > 1 AS num, CAST(NULL AS Nullable(Float64)) AS value, w_target AS detail
FROM (
    SELECT case_id AS k_case, completed_at
    FROM case_facts
    WHERE isNotNull(workflow) AND isNotNull(completed_at) AND completed_at >= $1 AND completed_at < $2
) ALL INNER JOIN (
    SELECT writeback_key, assumeNotNull(case_id) AS k_case, attempts AS w_attempts, target_system AS w_target
    FROM fact_writebacks
    WHERE isNotNull(case_id) AND manual = 0
) USING k_case
