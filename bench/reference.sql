-- The reference ingest bench/run measures closedloop against: DuckDB's own
-- read_json of Meta webhook JSONL, unnested into two flat tables holding
-- the same columns closedloop stores (messages and delivery statuses).
-- No pseudonymisation, no event ids, no deduplication, no rejects: this is
-- the plain "hand-written DuckDB script" closedloop must beat.
CREATE TEMP TABLE changes AS
SELECT c.value AS v
FROM (
    SELECT unnest(e.changes) AS c
    FROM (
        SELECT unnest(entry) AS e
        FROM read_json($FILES, format = 'newline_delimited', ignore_errors = true,
            maximum_object_size = 16777216,
            columns = {object: 'VARCHAR', entry: 'STRUCT(id VARCHAR, changes STRUCT(field VARCHAR, value STRUCT(
                metadata STRUCT(display_phone_number VARCHAR, phone_number_id VARCHAR),
                messages STRUCT(id VARCHAR, "from" VARCHAR, "timestamp" VARCHAR, "type" VARCHAR)[],
                statuses STRUCT(id VARCHAR, status VARCHAR, "timestamp" VARCHAR, recipient_id VARCHAR,
                    pricing STRUCT(billable BOOLEAN, category VARCHAR),
                    errors STRUCT(code VARCHAR, title VARCHAR)[])[]))[])[]'})
        WHERE object = 'whatsapp_business_account'
    )
);
CREATE TABLE messages AS
SELECT m.id AS message_id, m."from" AS customer_id, 'inbound' AS direction, m."type" AS kind,
       v.metadata.phone_number_id AS business_number,
       make_timestamp(TRY_CAST(m."timestamp" AS BIGINT) * 1000000) AS ts
FROM (SELECT v, unnest(v.messages) AS m FROM changes);
CREATE TABLE message_statuses AS
SELECT s.id AS message_id, s.status, make_timestamp(TRY_CAST(s."timestamp" AS BIGINT) * 1000000) AS ts,
       s.recipient_id AS customer_id, s.pricing.category AS pricing_category, s.pricing.billable AS billable,
       s.errors[1].code AS error_code, s.errors[1].title AS error_title
FROM (SELECT unnest(v.statuses) AS s FROM changes);
