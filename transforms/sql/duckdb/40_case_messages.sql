-- fact_case_messages: per case, who wrote and when. Template sends by the
-- system are not responses.
CREATE OR REPLACE TABLE fact_case_messages AS
SELECT
    case_id,
    count(*) FILTER (WHERE direction = 'outbound' AND sender_type = 'bot')   AS bot_msgs,
    count(*) FILTER (WHERE direction = 'outbound' AND sender_type = 'agent') AS agent_msgs,
    count(*) FILTER (WHERE direction = 'inbound')                            AS inbound_msgs,
    min(ts) FILTER (WHERE direction = 'outbound' AND sender_type IN ('bot', 'agent')) AS first_response_at,
    min(ts) FILTER (WHERE direction = 'outbound' AND sender_type = 'agent')  AS first_agent_at
FROM fact_messages
WHERE case_id IS NOT NULL
GROUP BY case_id;
