-- name: unapproved_template_sends
-- version: 1
-- kind: rate
-- definition: Template sends in the period whose template had no approved status in force at send time (its latest status event at or before the send is not approved, or it has none): count, and share of template sends.
SELECT m.message_id AS unit_id, m.case_id, m.ts AS period_ts,
       true AS den, coalesce(t.status, 'none') <> 'approved' AS num, NULL::DOUBLE AS value,
       m.template_name AS detail
FROM fact_messages m
ASOF LEFT JOIN template_events t
    ON t.template_name = m.template_name AND m.ts >= t.ts
WHERE m.direction = 'outbound' AND m.kind = 'template' AND m.ts >= $1 AND m.ts < $2
