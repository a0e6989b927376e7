-- fact_messages: one row per message id (a message seen by Meta and by the
-- console is one message). The row that knows its case wins (console or
-- workflow before Meta); the customer and case may come from any row.
-- A message without a case joins the customer's case open at that moment
-- (SPEC §2: opened at or before it and not resolved then, or reopened since;
-- the latest opened wins), else it stays caseless; a message without a
-- customer belongs to its case's customer.
-- ClickHouse translation of sql/duckdb/20_messages.sql: row_number() = 1 is
-- argMin over the same ordering as a tuple (optional values encoded as
-- 'v' || value or 'n', see 10_cases.sql); the CTEs are staging tables.
DROP TABLE IF EXISTS _fm_best;
CREATE TABLE _fm_best ENGINE = Memory AS
SELECT
    b_message_id,
    b_case,
    coalesce(if(substring(tupleElement(best, 1), 1, 1) = 'v', substring(tupleElement(best, 1), 2), NULL), b_any_customer) AS b_customer,
    tupleElement(best, 2) AS b_direction,
    tupleElement(best, 3) AS b_sender_type,
    tupleElement(best, 4) AS b_kind,
    if(substring(tupleElement(best, 5), 1, 1) = 'v', substring(tupleElement(best, 5), 2), NULL) AS b_template_name,
    tupleElement(best, 6) AS b_channel,
    if(substring(tupleElement(best, 7), 1, 1) = 'v', substring(tupleElement(best, 7), 2), NULL) AS b_business_number,
    b_ts
FROM (
    SELECT
        message_id       AS b_message_id,
        max(case_id)     AS b_case,
        max(customer_id) AS b_any_customer,
        min(ts)          AS b_ts,
        argMin(tuple(ifNull(concat('v', customer_id), 'n'), direction, sender_type, kind, ifNull(concat('v', template_name), 'n'), channel,
                     ifNull(concat('v', business_number), 'n')),
               tuple(isNull(case_id), source = 'meta', ts, event_id)) AS best
    FROM messages FINAL
    WHERE ts <= $1
    GROUP BY message_id
);
DROP TABLE IF EXISTS _fm_cand;
CREATE TABLE _fm_cand ENGINE = Memory AS
SELECT b_message_id, b_ts, k_case, k_opened
FROM (
    SELECT b_message_id, assumeNotNull(b_customer) AS link_customer, b_ts
    FROM _fm_best
    WHERE isNull(b_case) AND isNotNull(b_customer)
) ALL INNER JOIN (
    SELECT case_id AS k_case, assumeNotNull(customer_id) AS link_customer, opened_at AS k_opened
    FROM fact_cases
    WHERE isNotNull(customer_id)
) USING link_customer
WHERE k_opened <= b_ts;
-- A candidate case is open at the message unless its latest resolution
-- before the message has not been followed by a reopening by then (a
-- message at the very instant of a resolution still belongs to the case).
-- DuckDB's two ASOF joins are the latest such events per candidate.
DROP TABLE IF EXISTS _fm_linked;
CREATE TABLE _fm_linked ENGINE = Memory AS
SELECT b_message_id, tupleElement(argMin(tuple(k_case), tuple(-k_opened_any, k_case)), 1) AS l_case
FROM (
    SELECT b_message_id, k_case, any(k_opened) AS k_opened_any,
           max(if(e_event = 'resolved' AND e_ts < b_ts, e_ts, NULL))  AS r_last,
           max(if(e_event = 'reopened' AND e_ts <= b_ts, e_ts, NULL)) AS o_last
    FROM _fm_cand ALL LEFT JOIN (
        SELECT case_id AS k_case, event AS e_event, ts AS e_ts
        FROM case_events FINAL
        WHERE event IN ('resolved', 'reopened') AND ts <= $1
    ) USING k_case
    GROUP BY b_message_id, k_case
    HAVING isNull(r_last) OR ifNull(o_last > r_last, 0)
)
GROUP BY b_message_id;
DROP TABLE IF EXISTS _fm_joined;
CREATE TABLE _fm_joined ENGINE = Memory AS
SELECT b_message_id, b_case, l_case, b_customer, b_direction, b_sender_type, b_kind, b_template_name,
       b_channel, b_business_number, b_ts
FROM _fm_best ALL LEFT JOIN _fm_linked USING b_message_id;
DROP TABLE IF EXISTS fact_messages;
CREATE TABLE fact_messages ENGINE = MergeTree ORDER BY tuple() AS
SELECT
    b_message_id                          AS message_id,
    coalesce(b_case, l_case)              AS case_id,
    isNull(b_case) AND isNotNull(l_case)  AS case_inferred,
    coalesce(b_customer, c_customer)      AS customer_id,
    b_direction                           AS direction,
    b_sender_type                         AS sender_type,
    b_kind                                AS kind,
    b_template_name                       AS template_name,
    b_channel                             AS channel,
    b_business_number                     AS business_number,
    b_ts                                  AS ts
FROM (
    SELECT *, ifNull(b_case, '') AS c_join FROM _fm_joined
) ALL LEFT JOIN (
    SELECT case_id AS c_join, customer_id AS c_customer FROM fact_cases
) USING c_join;
DROP TABLE IF EXISTS _fm_best;
DROP TABLE IF EXISTS _fm_cand;
DROP TABLE IF EXISTS _fm_linked;
DROP TABLE IF EXISTS _fm_joined;
