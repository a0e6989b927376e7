-- name: consent_violations
-- version: 1
-- kind: rate
-- definition: Outbound template messages sent in the period to a customer whose latest consent event on that channel before the send is not opt_in (or who has none): count, and share of template sends.
-- ClickHouse has no ASOF JOIN in 18.16: the latest consent event strictly
-- before the send is argMax(status, ts) over the customer's events on the
-- channel, joined back to the sends (no event: 'none').
SELECT message_id AS unit_id, case_id, ts AS period_ts,
       1 AS den, ifNull(c_last_status, 'none') <> 'opt_in' AS num, CAST(NULL AS Nullable(Float64)) AS value,
       ifNull(c_last_status, 'none') AS detail
FROM (
    SELECT message_id, case_id, ts
    FROM fact_messages
    WHERE direction = 'outbound' AND kind = 'template' AND ts >= $1 AND ts < $2
) ALL LEFT JOIN (
    SELECT message_id, argMax(c_status, c_ts) AS c_last_status
    FROM (
        SELECT message_id, ts, assumeNotNull(customer_id) AS c_customer, channel AS c_channel
        FROM fact_messages
        WHERE direction = 'outbound' AND kind = 'template' AND ts >= $1 AND ts < $2 AND isNotNull(customer_id)
    ) ALL INNER JOIN (
        SELECT customer_id AS c_customer, channel AS c_channel, status AS c_status, ts AS c_ts
        FROM consent_events FINAL
    ) USING (c_customer, c_channel)
    WHERE c_ts < ts
    GROUP BY message_id
) USING message_id
