-- fact_message_status: the final delivery status of each message as of the
-- cutoff: read if any read, else delivered if any delivered, else failed if
-- any failed, else sent. Statuses arrive out of order and repeat; this
-- ordering makes both harmless.
-- ClickHouse translation of sql/duckdb/30_statuses.sql: bool_or is max of
-- a UInt8, FILTER is an -If combinator or if(c, x, NULL); arg_max_null
-- encodes the value as in 10_cases.sql.
DROP TABLE IF EXISTS fact_message_status;
CREATE TABLE fact_message_status ENGINE = MergeTree ORDER BY tuple() AS
SELECT
    s_message_id                                   AS message_id,
    multiIf(s_read, 'read', s_delivered, 'delivered', s_failed, 'failed', 'sent') AS final_status,
    if(substring(s_error_code, 1, 1) = 'v', substring(s_error_code, 2), NULL) AS error_code,
    if(substring(s_error_title, 1, 1) = 'v', substring(s_error_title, 2), NULL) AS error_title,
    s_pricing_category                             AS pricing_category,
    s_billable                                     AS billable,
    s_delivered_at                                 AS delivered_at,
    s_read_at                                      AS read_at,
    s_events                                       AS status_events
FROM (
    SELECT
        message_id                                                          AS s_message_id,
        max(status = 'read')                                                AS s_read,
        max(status = 'delivered')                                           AS s_delivered,
        max(status = 'failed')                                              AS s_failed,
        argMaxIf(ifNull(concat('v', error_code), 'n'), ts, status = 'failed') AS s_error_code,
        argMaxIf(ifNull(concat('v', error_title), 'n'), ts, status = 'failed') AS s_error_title,
        argMax(pricing_category, ts)                                        AS s_pricing_category,
        max(billable)                                                       AS s_billable,
        min(if(status IN ('delivered', 'read'), ts, NULL))                  AS s_delivered_at,
        min(if(status = 'read', ts, NULL))                                  AS s_read_at,
        count()                                                             AS s_events
    FROM message_statuses FINAL
    WHERE ts <= $1
    GROUP BY message_id
);
