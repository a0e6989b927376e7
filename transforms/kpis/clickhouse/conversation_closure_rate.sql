-- name: conversation_closure_rate
-- version: 1
-- kind: rate
-- definition: Cases opened in the period that are resolved at the cutoff and whose latest resolution carries a closure tag, over all cases opened in the period.
SELECT case_id AS unit_id, case_id, opened_at AS period_ts,
       1 AS den, resolved_at_cutoff AND isNotNull(last_closure_tag) AS num,
       CAST(NULL AS Nullable(Float64)) AS value, last_closure_tag AS detail
FROM case_facts
WHERE opened_at >= $1 AND opened_at < $2
