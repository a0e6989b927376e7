-- Pull collectors (closedloop collect; package ingest/pull and its
-- collectors). Cursors and checkpoints are advanced in the same transaction
-- as the rows they cover (Store.LoadWithState), so a run that dies half-way
-- resumes with no gap and no duplicate.

-- One row per collector and key: the collector's cursors and checkpoints.
-- Values are text (often JSON). Keys: "last_success_at" (every collector);
-- chatwoot_api: "cursor[:inbox:<id>]", "conv:<id>"; meta_graph: "tpl:<id>",
-- "analytics.through"; drop_folder: "taken:<path>".
CREATE TABLE collector_state (
    collector  VARCHAR NOT NULL,
    key        VARCHAR NOT NULL,
    value      VARCHAR NOT NULL,
    updated_at TIMESTAMP_MS NOT NULL,
    PRIMARY KEY (collector, key)
);

-- One row per collector, replaced after every run: what `closedloop status`,
-- the pack's data-quality panel and /metrics read. A collector's lag is
-- now - last_success_at (everything the source held then is stored);
-- last_success_at is NULL until a run succeeds. rows_last_run counts the rows
-- the last run stored (all tables, rejects included).
CREATE TABLE collector_freshness (
    collector       VARCHAR NOT NULL,
    kind            VARCHAR NOT NULL,
    last_run_at     TIMESTAMP_MS NOT NULL,
    last_run_ok     BOOLEAN NOT NULL,
    last_error      VARCHAR,
    last_success_at TIMESTAMP_MS,
    rows_last_run   BIGINT NOT NULL,
    updated_at      TIMESTAMP_MS NOT NULL
);

-- Meta template analytics, one row per template and UTC day, replaced when
-- the day is collected again (Meta revises recent days; it serves the last
-- 90 days only). clicked sums button clicks; cost is Meta's amount_spent in
-- the account's currency (from the configuration). NULL: not reported.
CREATE TABLE template_metrics_daily (
    template_id   VARCHAR NOT NULL,
    template_name VARCHAR,
    day           DATE NOT NULL,
    sent          BIGINT,
    delivered     BIGINT,
    "read"        BIGINT,
    clicked       BIGINT,
    cost          DOUBLE,
    currency      VARCHAR,
    collected_at  TIMESTAMP_MS NOT NULL
);

-- Every observed change of a Meta template's status, category or quality
-- score (attribute = status | category | quality_score); previous_value is
-- NULL the first time the template is seen. ts is when the collector saw the
-- change (the template list carries no change time). Status changes to
-- approved/rejected/paused/disabled are also template_events rows.
CREATE TABLE template_changes (
    event_id       VARCHAR NOT NULL,
    template_id    VARCHAR NOT NULL,
    template_name  VARCHAR,
    language       VARCHAR,
    attribute      VARCHAR NOT NULL,
    previous_value VARCHAR,
    value          VARCHAR NOT NULL,
    ts             TIMESTAMP_MS NOT NULL,
    source         VARCHAR NOT NULL,
    source_ref     VARCHAR NOT NULL,
    ingested_at    TIMESTAMP_MS NOT NULL
);

-- What the drop-folder collectors took (their "taken:<path>" state).
CREATE VIEW collector_taken_files AS
SELECT collector,
       substr(key, 7)                                        AS path,
       CAST(json_extract_string(value, '$.size') AS BIGINT)  AS size,
       CAST(json_extract_string(value, '$.mtime') AS TIMESTAMPTZ) AS mtime,
       json_extract_string(value, '$.sha256')                AS sha256,
       CAST(json_extract_string(value, '$.taken_at') AS TIMESTAMPTZ) AS taken_at,
       CAST(json_extract_string(value, '$.documents') AS BIGINT) AS documents,
       CAST(json_extract_string(value, '$.rejected') AS BIGINT)  AS rejected
FROM collector_state
WHERE key LIKE 'taken:%';
