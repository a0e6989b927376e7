-- fact_cases: one row per case with its lifecycle as of the cutoff ($1).
-- Dimensions (customer, queue, category, workflow) are the first non-null
-- value seen; opened_at is the first `opened` event, or the first event of
-- any kind when the source never sent one (opened_inferred = true).
CREATE OR REPLACE TABLE fact_cases AS
WITH ce AS (
    SELECT * FROM case_events WHERE ts <= $1
)
SELECT
    case_id,
    arg_min(customer_id, ts) FILTER (WHERE customer_id IS NOT NULL)  AS customer_id,
    arg_min(queue, ts) FILTER (WHERE queue IS NOT NULL)              AS queue,
    arg_min(category, ts) FILTER (WHERE category IS NOT NULL)        AS category,
    arg_min(workflow, ts) FILTER (WHERE workflow IS NOT NULL)        AS workflow,
    coalesce(min(ts) FILTER (WHERE event = 'opened'), min(ts))       AS opened_at,
    min(ts) FILTER (WHERE event = 'opened') IS NULL                  AS opened_inferred,
    count(*) FILTER (WHERE event = 'handover')                       AS handovers,
    min(ts) FILTER (WHERE event = 'handover')                        AS first_handover_at,
    arg_min_null(reason, ts) FILTER (WHERE event = 'handover')       AS first_handover_reason,
    min(ts) FILTER (WHERE event = 'completed')                       AS completed_at,
    min(ts) FILTER (WHERE event = 'resolved')                        AS first_resolved_at,
    max(ts) FILTER (WHERE event = 'resolved')                        AS last_resolved_at,
    arg_max_null(closure_tag, ts) FILTER (WHERE event = 'resolved')  AS last_closure_tag,
    max(ts) FILTER (WHERE event = 'reopened')                        AS last_reopened_at,
    count(*) FILTER (WHERE event = 'reopened')                       AS reopens
FROM ce
GROUP BY case_id;
