-- name: unapproved_template_sends
-- version: 1
-- kind: rate
-- definition: Template sends in the period whose template had no approved status in force at send time (its latest status event at or before the send is not approved, or it has none): count, and share of template sends.
-- ClickHouse has no ASOF JOIN in 18.16: the status in force at send time
-- is argMax(status, ts) over the template's events at or before the send.
SELECT message_id AS unit_id, case_id, ts AS period_ts,
       1 AS den, ifNull(t_last_status, 'none') <> 'approved' AS num, CAST(NULL AS Nullable(Float64)) AS value,
       template_name AS detail
FROM (
    SELECT message_id, case_id, ts, template_name
    FROM fact_messages
    WHERE direction = 'outbound' AND kind = 'template' AND ts >= $1 AND ts < $2
) ALL LEFT JOIN (
    SELECT message_id, argMax(t_status, t_ts) AS t_last_status
    FROM (
        SELECT message_id, ts, assumeNotNull(template_name) AS t_template
        FROM fact_messages
        WHERE direction = 'outbound' AND kind = 'template' AND ts >= $1 AND ts < $2 AND isNotNull(template_name)
    ) ALL INNER JOIN (
        SELECT template_name AS t_template, status AS t_status, ts AS t_ts
        FROM template_events FINAL
    ) USING t_template
    WHERE t_ts <= ts
    GROUP BY message_id
) USING message_id
