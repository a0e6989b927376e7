-- fact_writebacks: one row per writeback (attempts sharing an
-- idempotency_key are one writeback) as of the cutoff.
CREATE OR REPLACE TABLE fact_writebacks AS
SELECT
    coalesce(idempotency_key, writeback_id)              AS writeback_key,
    arg_min(case_id, ts)                                 AS case_id,
    arg_min(target_system, ts)                           AS target_system,
    bool_or(manual)                                      AS manual,
    count(DISTINCT attempt)                              AS attempts,
    bool_or(status = 'success')                          AS succeeded,
    min(ts) FILTER (WHERE status = 'success' AND NOT manual) AS first_auto_success_at,
    min(ts)                                              AS first_attempt_at,
    arg_max_null(error, ts) FILTER (WHERE status = 'failed') AS last_error
FROM writebacks
WHERE ts <= $1
GROUP BY 1;
