-- name: first_response_time
-- version: 1
-- kind: percentile
-- unit: seconds
-- definition: Cases opened in the period that have an outbound bot or agent message: business time in the queue's calendar from opened to the first such message (system template sends do not count), p50 and p90 by nearest rank.
SELECT case_id AS unit_id, case_id, opened_at AS period_ts,
       1 AS den, 1 AS num, business_seconds AS value, CAST(NULL AS Nullable(String)) AS detail
FROM fact_first_response
WHERE opened_at >= $1 AND opened_at < $2
