-- name: untagged_closures
-- version: 1
-- kind: count
-- definition: Cases opened in the period that are resolved at the cutoff but whose latest resolution has no closure tag.
SELECT case_id AS unit_id, case_id, opened_at AS period_ts,
       1 AS den, 1 AS num, CAST(NULL AS Nullable(Float64)) AS value, CAST(NULL AS Nullable(String)) AS detail
FROM case_facts
WHERE opened_at >= $1 AND opened_at < $2 AND resolved_at_cutoff AND isNull(last_closure_tag)
