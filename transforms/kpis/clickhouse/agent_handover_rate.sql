-- name: agent_handover_rate
-- version: 1
-- kind: rate
-- definition: Cases opened in the period in which a bot sent at least one message, share with a handover to a human by the cutoff.
SELECT case_id AS unit_id, case_id, opened_at AS period_ts,
       1 AS den, outcome = 'handed_over' AS num, CAST(NULL AS Nullable(Float64)) AS value, first_handover_reason AS detail
FROM case_facts
WHERE opened_at >= $1 AND opened_at < $2 AND bot_msgs > 0
