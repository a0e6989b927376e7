-- fact_messages: one row per message id (a message seen by Meta and by the
-- console is one message). The row that knows its case wins (console or
-- workflow before Meta); the customer and case may come from any row.
-- A message without a case joins the customer's case open at that moment
-- (latest opened at or before it, not yet finally resolved).
CREATE OR REPLACE TABLE fact_messages AS
WITH m AS (
    SELECT *,
        row_number() OVER (PARTITION BY message_id
            ORDER BY (case_id IS NULL), (source = 'meta'), ts, event_id) AS rk,
        max(case_id) OVER (PARTITION BY message_id)     AS any_case,
        max(customer_id) OVER (PARTITION BY message_id) AS any_customer,
        min(ts) OVER (PARTITION BY message_id)          AS first_ts
    FROM messages
    WHERE ts <= $1
),
best AS (
    SELECT message_id, any_case AS case_id, coalesce(customer_id, any_customer) AS customer_id,
           direction, sender_type, kind, template_name, channel, business_number, first_ts AS ts
    FROM m WHERE rk = 1
),
spans AS (
    SELECT case_id, customer_id, opened_at,
           CASE WHEN last_resolved_at IS NOT NULL
                 AND (last_reopened_at IS NULL OR last_resolved_at > last_reopened_at)
                THEN last_resolved_at END AS closed_at
    FROM fact_cases
    WHERE customer_id IS NOT NULL
),
linked AS (
    SELECT b.message_id, s.case_id,
           row_number() OVER (PARTITION BY b.message_id ORDER BY s.opened_at DESC, s.case_id) AS rn
    FROM best b
    JOIN spans s ON b.case_id IS NULL
                AND s.customer_id = b.customer_id
                AND s.opened_at <= b.ts
                AND (s.closed_at IS NULL OR s.closed_at >= b.ts)
)
SELECT b.message_id,
       coalesce(b.case_id, l.case_id)              AS case_id,
       b.case_id IS NULL AND l.case_id IS NOT NULL AS case_inferred,
       b.customer_id, b.direction, b.sender_type, b.kind, b.template_name,
       b.channel, b.business_number, b.ts
FROM best b
LEFT JOIN linked l ON l.message_id = b.message_id AND l.rn = 1;
