-- case_facts: the per-case facts every cohort KPI reads, with the outcome
-- of SPEC §3 (handed_over, bot_resolved, agent_resolved, open).
CREATE OR REPLACE TABLE case_facts AS
SELECT
    c.*,
    coalesce(m.bot_msgs, 0)   AS bot_msgs,
    coalesce(m.agent_msgs, 0) AS agent_msgs,
    coalesce(m.inbound_msgs, 0) AS inbound_msgs,
    m.first_response_at,
    m.first_agent_at,
    (c.last_resolved_at IS NOT NULL
        AND (c.last_reopened_at IS NULL OR c.last_resolved_at > c.last_reopened_at)) AS resolved_at_cutoff,
    CASE WHEN c.handovers > 0 THEN 'handed_over'
         WHEN c.last_resolved_at IS NOT NULL
              AND (c.last_reopened_at IS NULL OR c.last_resolved_at > c.last_reopened_at)
              AND coalesce(m.agent_msgs, 0) = 0 THEN 'bot_resolved'
         WHEN c.last_resolved_at IS NOT NULL
              AND (c.last_reopened_at IS NULL OR c.last_resolved_at > c.last_reopened_at) THEN 'agent_resolved'
         ELSE 'open' END AS outcome,
    -- A writeback is all attempts sharing its key (fact_writebacks), so an
    -- attempt that names only the key still belongs to the key's case.
    EXISTS (SELECT 1 FROM writebacks w
            JOIN fact_writebacks f ON f.writeback_key = coalesce(w.idempotency_key, w.writeback_id)
            WHERE f.case_id = c.case_id AND w.status = 'success' AND NOT w.manual
              AND w.ts >= c.completed_at AND w.ts <= $1) AS writeback_ok,
    EXISTS (SELECT 1 FROM fact_writebacks w WHERE w.case_id = c.case_id AND w.manual) AS manual_wrap_up
FROM fact_cases c
LEFT JOIN fact_case_messages m ON m.case_id = c.case_id;
