-- fact_message_status: the final delivery status of each message as of the
-- cutoff: read if any read, else delivered if any delivered, else failed if
-- any failed, else sent. Statuses arrive out of order and repeat; this
-- ordering makes both harmless.
CREATE OR REPLACE TABLE fact_message_status AS
SELECT
    message_id,
    CASE WHEN bool_or(status = 'read') THEN 'read'
         WHEN bool_or(status = 'delivered') THEN 'delivered'
         WHEN bool_or(status = 'failed') THEN 'failed'
         ELSE 'sent' END                                         AS final_status,
    arg_max_null(error_code, ts) FILTER (WHERE status = 'failed')  AS error_code,
    arg_max_null(error_title, ts) FILTER (WHERE status = 'failed') AS error_title,
    arg_max(pricing_category, ts) FILTER (WHERE pricing_category IS NOT NULL) AS pricing_category,
    bool_or(billable)                                            AS billable,
    min(ts) FILTER (WHERE status IN ('delivered', 'read'))       AS delivered_at,
    min(ts) FILTER (WHERE status = 'read')                       AS read_at,
    count(*)                                                     AS status_events
FROM message_statuses
WHERE ts <= $1
GROUP BY message_id;
