-- fact_messages: one row per message id (a message seen by Meta and by the
-- console is one message). The row that knows its case wins (console or
-- workflow before Meta); the customer and case may come from any row.
-- A message without a case joins the customer's case open at that moment
-- (SPEC §2: opened at or before it and not resolved then, or reopened since;
-- the latest opened wins), else it stays caseless; a message without a
-- customer belongs to its case's customer.
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
candidates AS (
    SELECT b.message_id, b.ts, c.case_id, c.opened_at
    FROM best b
    JOIN fact_cases c ON b.case_id IS NULL
                     AND c.customer_id = b.customer_id
                     AND c.opened_at <= b.ts
),
resolutions AS (
    SELECT case_id, ts FROM case_events WHERE event = 'resolved' AND ts <= $1
),
reopenings AS (
    SELECT case_id, ts FROM case_events WHERE event = 'reopened' AND ts <= $1
),
-- A candidate case is open at the message unless its latest resolution
-- before the message has not been followed by a reopening by then (a
-- message at the very instant of a resolution still belongs to the case).
linked AS (
    SELECT k.message_id, k.case_id,
           row_number() OVER (PARTITION BY k.message_id ORDER BY k.opened_at DESC, k.case_id) AS rn
    FROM candidates k
    ASOF LEFT JOIN resolutions r ON r.case_id = k.case_id AND k.ts > r.ts
    ASOF LEFT JOIN reopenings o ON o.case_id = k.case_id AND k.ts >= o.ts
    WHERE r.ts IS NULL OR o.ts > r.ts
)
SELECT b.message_id,
       coalesce(b.case_id, l.case_id)              AS case_id,
       b.case_id IS NULL AND l.case_id IS NOT NULL AS case_inferred,
       coalesce(b.customer_id, c.customer_id)      AS customer_id,
       b.direction, b.sender_type, b.kind, b.template_name,
       b.channel, b.business_number, b.ts
FROM best b
LEFT JOIN linked l ON l.message_id = b.message_id AND l.rn = 1
LEFT JOIN fact_cases c ON c.case_id = b.case_id;
