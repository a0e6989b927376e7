-- name: exception_rate
-- version: 1
-- kind: rate
-- breakdown: handovers by first reason
-- definition: Workflow cases opened in the period, share with at least one handover to a human by the cutoff, broken down by the first handover's reason.
SELECT case_id AS unit_id, case_id, opened_at AS period_ts,
       1 AS den, handovers > 0 AS num, CAST(NULL AS Nullable(Float64)) AS value,
       if(handovers > 0, coalesce(first_handover_reason, 'no_reason'), CAST(NULL AS Nullable(String))) AS detail
FROM case_facts
WHERE isNotNull(workflow) AND opened_at >= $1 AND opened_at < $2
