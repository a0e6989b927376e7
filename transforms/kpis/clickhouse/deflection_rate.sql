-- name: deflection_rate
-- version: 1
-- kind: rate
-- definition: Workflow cases opened in the period (triggered), share completed by the cutoff with no handover to a person and no agent message: the routine task finished inside the message.
SELECT case_id AS unit_id, case_id, opened_at AS period_ts,
       1 AS den, isNotNull(completed_at) AND handovers = 0 AND agent_msgs = 0 AS num,
       CAST(NULL AS Nullable(Float64)) AS value, CAST(NULL AS Nullable(String)) AS detail
FROM case_facts
WHERE isNotNull(workflow) AND opened_at >= $1 AND opened_at < $2
