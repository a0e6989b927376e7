-- name: template_delivery_success
-- version: 1
-- kind: rate
-- breakdown: failures by error_code
-- definition: Outbound template messages sent in the period, share whose final status by the cutoff is delivered or read (read beats delivered beats failed beats sent).
SELECT m.message_id AS unit_id, m.case_id, m.ts AS period_ts,
       true AS den,
       coalesce(s.final_status, 'sent') IN ('delivered', 'read') AS num,
       NULL::DOUBLE AS value,
       CASE WHEN s.final_status = 'failed' THEN coalesce(s.error_code, 'unknown') END AS detail
FROM fact_messages m
LEFT JOIN fact_message_status s ON s.message_id = m.message_id
WHERE m.direction = 'outbound' AND m.kind = 'template'
  AND m.ts >= $1 AND m.ts < $2
