-- fact_cases: one row per case with its lifecycle as of the cutoff ($1).
-- ClickHouse translation of sql/duckdb/10_cases.sql (same columns, same
-- meaning). Timestamps are Int64 epoch milliseconds. `min(ts) FILTER (WHERE
-- c)` is min(if(c, ts, NULL)), which stays NULL when no row matches (minIf
-- would give 0); argMin over a Nullable value skips NULLs like DuckDB's
-- arg_min. arg_min_null must keep a NULL value: the value is encoded as
-- 'v' || value or 'n' for NULL (no row at all: ''), and decoded outside.
-- (A Tuple with Nullable elements would do, but ClickHouse 18.16 crashes
-- merging such argMin states across shards.)
DROP TABLE IF EXISTS fact_cases;
CREATE TABLE fact_cases ENGINE = MergeTree ORDER BY tuple() AS
SELECT
    x_case                  AS case_id,
    x_customer              AS customer_id,
    x_queue                 AS queue,
    x_category              AS category,
    x_workflow              AS workflow,
    x_opened                AS opened_at,
    x_opened_inferred       AS opened_inferred,
    x_handovers             AS handovers,
    x_first_handover_at     AS first_handover_at,
    if(substring(x_first_handover_reason, 1, 1) = 'v', substring(x_first_handover_reason, 2), NULL) AS first_handover_reason,
    x_completed_at          AS completed_at,
    x_first_resolved_at     AS first_resolved_at,
    x_last_resolved_at      AS last_resolved_at,
    if(substring(x_last_closure_tag, 1, 1) = 'v', substring(x_last_closure_tag, 2), NULL) AS last_closure_tag,
    x_last_reopened_at      AS last_reopened_at,
    x_reopens               AS reopens
FROM (
    SELECT
        case_id                                                             AS x_case,
        argMin(customer_id, ts)                                             AS x_customer,
        argMin(queue, ts)                                                   AS x_queue,
        argMin(category, ts)                                                AS x_category,
        argMin(workflow, ts)                                                AS x_workflow,
        assumeNotNull(coalesce(min(if(event = 'opened', ts, NULL)), min(ts))) AS x_opened,
        countIf(event = 'opened') = 0                                       AS x_opened_inferred,
        countIf(event = 'handover')                                         AS x_handovers,
        min(if(event = 'handover', ts, NULL))                               AS x_first_handover_at,
        argMinIf(ifNull(concat('v', reason), 'n'), ts, event = 'handover') AS x_first_handover_reason,
        min(if(event = 'completed', ts, NULL))                              AS x_completed_at,
        min(if(event = 'resolved', ts, NULL))                               AS x_first_resolved_at,
        max(if(event = 'resolved', ts, NULL))                               AS x_last_resolved_at,
        argMaxIf(ifNull(concat('v', closure_tag), 'n'), ts, event = 'resolved') AS x_last_closure_tag,
        max(if(event = 'reopened', ts, NULL))                               AS x_last_reopened_at,
        countIf(event = 'reopened')                                         AS x_reopens
    FROM case_events FINAL
    WHERE ts <= $1
    GROUP BY case_id
);
