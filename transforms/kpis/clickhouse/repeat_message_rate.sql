-- name: repeat_message_rate
-- version: 1
-- kind: rate
-- immature_days: 7
-- definition: Resolutions in the period after which the same customer sent an inbound message within 7 days (in this or another case), over resolutions in the period.
-- The correlated EXISTS becomes a join of each resolution (one per case
-- and instant, however many sources report it) with the customer's inbound
-- messages up to the cutoff. Unit ids format ts like DuckDB's strftime
-- '%Y-%m-%dT%H:%M:%S.%g' (UTC).
SELECT concat(g_case, '@', replaceOne(toString(toDateTime(intDiv(g_ts, 1000), 'UTC')), ' ', 'T'), '.',
              substring(toString(1000 + g_ts % 1000), 2, 3)) AS unit_id,
       g_case AS case_id, g_ts AS period_ts,
       1 AS den,
       r_repeats > 0 AS num,
       CAST(NULL AS Nullable(Float64)) AS value, CAST(NULL AS Nullable(String)) AS detail
FROM (
    SELECT r_case AS g_case, r_ts AS g_ts,
           countIf(ifNull(m_ts, 0) > r_ts AND ifNull(m_ts, 0) <= r_ts + 604800000) AS r_repeats
    FROM (
        SELECT r_case, r_ts, ifNull(r_customer, '') AS r_join
        FROM (
            SELECT DISTINCT case_id AS r_case, ts AS r_ts
            FROM case_events FINAL
            WHERE event = 'resolved' AND ts >= $1 AND ts < $2 AND ts <= $3
        ) ALL INNER JOIN (
            SELECT case_id AS r_case, customer_id AS r_customer FROM case_facts
        ) USING r_case
    ) ALL LEFT JOIN (
        SELECT assumeNotNull(customer_id) AS r_join, ts AS m_ts
        FROM fact_messages
        WHERE direction = 'inbound' AND isNotNull(customer_id) AND ts <= $3
    ) USING r_join
    GROUP BY r_case, r_ts
)
