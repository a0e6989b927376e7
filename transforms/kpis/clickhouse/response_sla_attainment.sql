-- name: response_sla_attainment
-- version: 1
-- kind: rate
-- definition: Waiting periods (a customer message with no earlier unanswered one, until the next bot or agent reply in the case) started in the period: attained (answered within the queue's target in business time) over attained plus breached (answered late, or unanswered beyond the target at the cutoff).
SELECT concat(case_id, '@', replaceOne(toString(toDateTime(intDiv(started_at, 1000), 'UTC')), ' ', 'T'), '.',
              substring(toString(1000 + started_at % 1000), 2, 3)) AS unit_id,
       case_id, started_at AS period_ts,
       1 AS den, state = 'attained' AS num, business_seconds AS value, state AS detail
FROM fact_waits
WHERE started_at >= $1 AND started_at < $2 AND state IN ('attained', 'breached')
