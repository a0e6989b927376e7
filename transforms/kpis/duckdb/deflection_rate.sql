-- name: deflection_rate
-- version: 1
-- kind: rate
-- definition: Workflow cases opened in the period (triggered), share completed by the cutoff with no handover to a person and no agent message: the routine task finished inside the message.
SELECT case_id AS unit_id, case_id, opened_at AS period_ts,
       true AS den, completed_at IS NOT NULL AND handovers = 0 AND agent_msgs = 0 AS num,
       NULL::DOUBLE AS value, NULL AS detail
FROM case_facts
WHERE workflow IS NOT NULL AND opened_at >= $1 AND opened_at < $2
