-- fact_writebacks: one row per writeback (attempts sharing an
-- idempotency_key are one writeback) as of the cutoff.
-- ClickHouse translation of sql/duckdb/50_writebacks.sql: count(DISTINCT)
-- is uniqExact, bool_or is max, arg_max_null encodes as in 10_cases.sql.
DROP TABLE IF EXISTS fact_writebacks;
CREATE TABLE fact_writebacks ENGINE = MergeTree ORDER BY tuple() AS
SELECT
    wb_key                   AS writeback_key,
    wb_case                  AS case_id,
    wb_target_system         AS target_system,
    wb_manual                AS manual,
    wb_attempts              AS attempts,
    wb_succeeded             AS succeeded,
    wb_first_auto_success_at AS first_auto_success_at,
    wb_first_attempt_at      AS first_attempt_at,
    if(substring(wb_last_error, 1, 1) = 'v', substring(wb_last_error, 2), NULL) AS last_error
FROM (
    SELECT
        assumeNotNull(coalesce(idempotency_key, writeback_id))              AS wb_key,
        argMin(case_id, ts)                                                 AS wb_case,
        argMin(target_system, ts)                                           AS wb_target_system,
        max(manual)                                                         AS wb_manual,
        uniqExact(attempt)                                                  AS wb_attempts,
        max(status = 'success')                                             AS wb_succeeded,
        min(if(status = 'success' AND manual = 0, ts, NULL))                AS wb_first_auto_success_at,
        min(ts)                                                             AS wb_first_attempt_at,
        argMaxIf(ifNull(concat('v', error), 'n'), ts, status = 'failed') AS wb_last_error
    FROM writebacks FINAL
    WHERE ts <= $1
    GROUP BY wb_key
);
