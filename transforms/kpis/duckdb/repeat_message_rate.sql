-- name: repeat_message_rate
-- version: 1
-- kind: rate
-- immature_days: 7
-- definition: Resolutions in the period after which the same customer sent an inbound message within 7 days (in this or another case), over resolutions in the period.
WITH r AS (
    -- one resolution per case and instant, however many sources report it
    SELECT DISTINCT e.case_id, e.ts, c.customer_id
    FROM case_events e
    JOIN case_facts c ON c.case_id = e.case_id
    WHERE e.event = 'resolved' AND e.ts >= $1 AND e.ts < $2 AND e.ts <= $3
)
SELECT r.case_id || '@' || strftime(r.ts, '%Y-%m-%dT%H:%M:%S.%g') AS unit_id, r.case_id, r.ts AS period_ts,
       true AS den,
       EXISTS (SELECT 1 FROM fact_messages m
               WHERE m.customer_id = r.customer_id AND m.direction = 'inbound'
                 AND m.ts > r.ts AND m.ts <= r.ts + INTERVAL 7 DAY AND m.ts <= $3) AS num,
       NULL::DOUBLE AS value, NULL AS detail
FROM r
