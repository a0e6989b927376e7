-- name: untagged_closures
-- version: 1
-- kind: count
-- definition: Cases opened in the period that are resolved at the cutoff but whose latest resolution has no closure tag.
SELECT case_id AS unit_id, case_id, opened_at AS period_ts,
       true AS den, true AS num, NULL::DOUBLE AS value, NULL AS detail
FROM case_facts
WHERE opened_at >= $1 AND opened_at < $2 AND resolved_at_cutoff AND last_closure_tag IS NULL
