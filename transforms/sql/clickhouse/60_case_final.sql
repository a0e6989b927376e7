-- case_facts: the per-case facts every cohort KPI reads, with the outcome
-- of SPEC §3 (handed_over, bot_resolved, agent_resolved, open).
-- ClickHouse translation of sql/duckdb/60_case_final.sql. The correlated
-- EXISTS become joins with per-case aggregates (one JOIN per SELECT):
-- writeback_ok holds when the latest automatic successful attempt (by the
-- cutoff) of one of the case's writebacks is at or after completion.
-- Resolved-at-cutoff is written without NULLs in boolean logic.
DROP TABLE IF EXISTS _cf_writeback_ok;
CREATE TABLE _cf_writeback_ok ENGINE = Memory AS
SELECT f_case AS case_id, max(w_ts) AS ok_last_ts
FROM (
    SELECT assumeNotNull(coalesce(idempotency_key, writeback_id)) AS writeback_key, ts AS w_ts
    FROM writebacks FINAL
    WHERE status = 'success' AND manual = 0 AND ts <= $1
) ALL INNER JOIN (
    SELECT writeback_key, assumeNotNull(case_id) AS f_case
    FROM fact_writebacks
    WHERE isNotNull(case_id)
) USING writeback_key
GROUP BY f_case;
DROP TABLE IF EXISTS _cf_messages;
CREATE TABLE _cf_messages ENGINE = Memory AS
SELECT
    case_id, customer_id, queue, category, workflow, opened_at, opened_inferred, handovers,
    first_handover_at, first_handover_reason, completed_at, first_resolved_at, last_resolved_at,
    last_closure_tag, last_reopened_at, reopens,
    m_bot, m_agent, m_inbound, m_first_response, m_first_agent
FROM fact_cases ALL LEFT JOIN (
    SELECT case_id, bot_msgs AS m_bot, agent_msgs AS m_agent, inbound_msgs AS m_inbound,
           first_response_at AS m_first_response, first_agent_at AS m_first_agent
    FROM fact_case_messages
) USING case_id;
DROP TABLE IF EXISTS case_facts;
CREATE TABLE case_facts ENGINE = MergeTree ORDER BY tuple() AS
SELECT
    case_id, customer_id, queue, category, workflow, opened_at, opened_inferred, handovers,
    first_handover_at, first_handover_reason, completed_at, first_resolved_at, last_resolved_at,
    last_closure_tag, last_reopened_at, reopens,
    ifNull(m_bot, 0)     AS bot_msgs,
    ifNull(m_agent, 0)   AS agent_msgs,
    ifNull(m_inbound, 0) AS inbound_msgs,
    m_first_response     AS first_response_at,
    m_first_agent        AS first_agent_at,
    isNotNull(last_resolved_at) AND ifNull(last_resolved_at, 0) > ifNull(last_reopened_at, -1) AS resolved_at_cutoff,
    multiIf(handovers > 0, 'handed_over',
            isNotNull(last_resolved_at) AND ifNull(last_resolved_at, 0) > ifNull(last_reopened_at, -1)
                AND ifNull(m_agent, 0) = 0, 'bot_resolved',
            isNotNull(last_resolved_at) AND ifNull(last_resolved_at, 0) > ifNull(last_reopened_at, -1), 'agent_resolved',
            'open') AS outcome,
    ifNull(ok_last_ts >= completed_at, 0) AS writeback_ok,
    case_id IN (SELECT assumeNotNull(case_id) FROM fact_writebacks WHERE isNotNull(case_id) AND manual = 1) AS manual_wrap_up
FROM _cf_messages ALL LEFT JOIN _cf_writeback_ok USING case_id;
DROP TABLE IF EXISTS _cf_writeback_ok;
DROP TABLE IF EXISTS _cf_messages;
