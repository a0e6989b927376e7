-- name: consent_violations
-- version: 1
-- kind: rate
-- definition: Outbound template messages sent in the period to a customer whose latest consent event on that channel before the send is not opt_in (or who has none): count, and share of template sends.
SELECT m.message_id AS unit_id, m.case_id, m.ts AS period_ts,
       true AS den, coalesce(c.status, 'none') <> 'opt_in' AS num, NULL::DOUBLE AS value,
       coalesce(c.status, 'none') AS detail
FROM fact_messages m
ASOF LEFT JOIN consent_events c
    ON c.customer_id = m.customer_id AND c.channel = m.channel AND m.ts > c.ts
WHERE m.direction = 'outbound' AND m.kind = 'template' AND m.ts >= $1 AND m.ts < $2
