-- name: exception_rate
-- version: 1
-- kind: rate
-- breakdown: handovers by first reason
-- definition: Workflow cases opened in the period, share with at least one handover to a human by the cutoff, broken down by the first handover's reason.
SELECT case_id AS unit_id, case_id, opened_at AS period_ts,
       true AS den, handovers > 0 AS num, NULL::DOUBLE AS value,
       CASE WHEN handovers > 0 THEN coalesce(first_handover_reason, 'no_reason') END AS detail
FROM case_facts
WHERE workflow IS NOT NULL AND opened_at >= $1 AND opened_at < $2
