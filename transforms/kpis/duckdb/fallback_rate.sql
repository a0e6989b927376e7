-- name: fallback_rate
-- version: 1
-- kind: rate
-- breakdown: fallbacks by why the first channel did not do (first_channel_failed, first_channel_unread)
-- definition: Workflow cases opened in the period, share that needed a second channel: one was first used after the first channel had failed (and delivered nothing), or had gone unread for funnel.fallback_wait (default 24h) since the first send; messages after completion do not count.
SELECT case_id AS unit_id, case_id, opened_at AS period_ts,
       true AS den, fallback AS num, NULL::DOUBLE AS value,
       CASE WHEN fallback THEN fallback_reason END AS detail
FROM fact_funnel
WHERE opened_at >= $1 AND opened_at < $2
