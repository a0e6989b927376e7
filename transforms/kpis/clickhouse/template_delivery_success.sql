-- name: template_delivery_success
-- version: 1
-- kind: rate
-- breakdown: failures by error_code
-- definition: Outbound template messages sent in the period, share whose final status by the cutoff is delivered or read (read beats delivered beats failed beats sent).
SELECT message_id AS unit_id, case_id, ts AS period_ts,
       1 AS den,
       ifNull(s_final, 'sent') IN ('delivered', 'read') AS num,
       CAST(NULL AS Nullable(Float64)) AS value,
       if(ifNull(s_final, '') = 'failed', coalesce(s_error, 'unknown'), CAST(NULL AS Nullable(String))) AS detail
FROM (
    SELECT message_id, case_id, ts
    FROM fact_messages
    WHERE direction = 'outbound' AND kind = 'template' AND ts >= $1 AND ts < $2
) ALL LEFT JOIN (
    SELECT message_id, final_status AS s_final, error_code AS s_error FROM fact_message_status
) USING message_id
