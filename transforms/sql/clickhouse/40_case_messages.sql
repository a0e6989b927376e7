-- fact_case_messages: per case, who wrote and when. Template sends by the
-- system are not responses.
-- ClickHouse translation of sql/duckdb/40_case_messages.sql.
DROP TABLE IF EXISTS fact_case_messages;
CREATE TABLE fact_case_messages ENGINE = MergeTree ORDER BY tuple() AS
SELECT
    cm_case            AS case_id,
    cm_bot             AS bot_msgs,
    cm_agent           AS agent_msgs,
    cm_inbound         AS inbound_msgs,
    cm_first_response  AS first_response_at,
    cm_first_agent     AS first_agent_at
FROM (
    SELECT
        assumeNotNull(case_id)                                                           AS cm_case,
        countIf(direction = 'outbound' AND sender_type = 'bot')                          AS cm_bot,
        countIf(direction = 'outbound' AND sender_type = 'agent')                        AS cm_agent,
        countIf(direction = 'inbound')                                                   AS cm_inbound,
        min(if(direction = 'outbound' AND sender_type IN ('bot', 'agent'), ts, NULL))    AS cm_first_response,
        min(if(direction = 'outbound' AND sender_type = 'agent', ts, NULL))              AS cm_first_agent
    FROM fact_messages
    WHERE isNotNull(case_id)
    GROUP BY cm_case
);
