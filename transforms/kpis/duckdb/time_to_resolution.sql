-- name: time_to_resolution
-- version: 1
-- kind: percentile
-- unit: seconds
-- definition: Workflow cases completed in the period: calendar time from opened to completed, p50 and p90 by nearest rank.
SELECT case_id AS unit_id, case_id, completed_at AS period_ts,
       true AS den, true AS num,
       epoch_ms(completed_at - opened_at) / 1000.0 AS value, NULL AS detail
FROM case_facts
WHERE workflow IS NOT NULL AND completed_at >= $1 AND completed_at < $2
