-- name: bot_resolution_rate
-- version: 1
-- kind: rate
-- definition: Cases opened in the period in which a bot sent at least one message, share whose outcome by the cutoff is bot_resolved (resolved with no agent message and no handover).
SELECT case_id AS unit_id, case_id, opened_at AS period_ts,
       1 AS den, outcome = 'bot_resolved' AS num, CAST(NULL AS Nullable(Float64)) AS value, outcome AS detail
FROM case_facts
WHERE opened_at >= $1 AND opened_at < $2 AND bot_msgs > 0
