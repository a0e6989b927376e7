-- name: resolution_time
-- version: 1
-- kind: percentile
-- unit: seconds
-- definition: Conversations (no workflow) whose first resolution falls in the period: calendar time from opened to that first resolution, p50 and p90 by nearest rank.
SELECT case_id AS unit_id, case_id, first_resolved_at AS period_ts,
       1 AS den, 1 AS num,
       (first_resolved_at - opened_at) / 1000 AS value, CAST(NULL AS Nullable(String)) AS detail
FROM case_facts
WHERE isNull(workflow) AND isNotNull(first_resolved_at) AND first_resolved_at >= $1 AND first_resolved_at < $2
