-- Raw layer: one table per canonical event kind (SPEC §2). Timestamps are
-- UTC with millisecond precision; event_id identifies an event for
-- deduplication; source/source_ref/ingested_at give provenance.
CREATE TABLE messages (
    event_id        VARCHAR NOT NULL,
    message_id      VARCHAR NOT NULL,
    case_id         VARCHAR,
    customer_id     VARCHAR,
    direction       VARCHAR NOT NULL,
    sender_type     VARCHAR NOT NULL,
    kind            VARCHAR NOT NULL,
    template_name   VARCHAR,
    channel         VARCHAR NOT NULL,
    business_number VARCHAR,
    ts              TIMESTAMP_MS NOT NULL,
    source          VARCHAR NOT NULL,
    source_ref      VARCHAR NOT NULL,
    ingested_at     TIMESTAMP_MS NOT NULL
);
CREATE TABLE message_statuses (
    event_id         VARCHAR NOT NULL,
    message_id       VARCHAR NOT NULL,
    status           VARCHAR NOT NULL,
    ts               TIMESTAMP_MS NOT NULL,
    error_code       VARCHAR,
    error_title      VARCHAR,
    pricing_category VARCHAR,
    billable         BOOLEAN,
    channel          VARCHAR NOT NULL,
    customer_id      VARCHAR,
    source           VARCHAR NOT NULL,
    source_ref       VARCHAR NOT NULL,
    ingested_at      TIMESTAMP_MS NOT NULL
);
CREATE TABLE case_events (
    event_id    VARCHAR NOT NULL,
    case_id     VARCHAR NOT NULL,
    customer_id VARCHAR,
    event       VARCHAR NOT NULL,
    ts          TIMESTAMP_MS NOT NULL,
    queue       VARCHAR,
    category    VARCHAR,
    workflow    VARCHAR,
    actor       VARCHAR,
    reason      VARCHAR,
    closure_tag VARCHAR,
    source      VARCHAR NOT NULL,
    source_ref  VARCHAR NOT NULL,
    ingested_at TIMESTAMP_MS NOT NULL
);
CREATE TABLE writebacks (
    event_id        VARCHAR NOT NULL,
    writeback_id    VARCHAR NOT NULL,
    case_id         VARCHAR,
    workflow        VARCHAR,
    target_system   VARCHAR,
    action          VARCHAR,
    idempotency_key VARCHAR,
    attempt         INTEGER NOT NULL,
    status          VARCHAR NOT NULL,
    manual          BOOLEAN NOT NULL,
    ts              TIMESTAMP_MS NOT NULL,
    error           VARCHAR,
    source          VARCHAR NOT NULL,
    source_ref      VARCHAR NOT NULL,
    ingested_at     TIMESTAMP_MS NOT NULL
);
CREATE TABLE consent_events (
    event_id       VARCHAR NOT NULL,
    customer_id    VARCHAR NOT NULL,
    channel        VARCHAR NOT NULL,
    status         VARCHAR NOT NULL,
    ts             TIMESTAMP_MS NOT NULL,
    consent_source VARCHAR,
    source         VARCHAR NOT NULL,
    source_ref     VARCHAR NOT NULL,
    ingested_at    TIMESTAMP_MS NOT NULL
);
CREATE TABLE template_events (
    event_id      VARCHAR NOT NULL,
    template_name VARCHAR NOT NULL,
    status        VARCHAR NOT NULL,
    ts            TIMESTAMP_MS NOT NULL,
    actor         VARCHAR,
    source        VARCHAR NOT NULL,
    source_ref    VARCHAR NOT NULL,
    ingested_at   TIMESTAMP_MS NOT NULL
);
CREATE TABLE audit_events (
    event_id    VARCHAR NOT NULL,
    audit_id    VARCHAR NOT NULL,
    ts          TIMESTAMP_MS NOT NULL,
    actor       VARCHAR,
    actor_role  VARCHAR,
    action      VARCHAR NOT NULL,
    object_type VARCHAR,
    object_id   VARCHAR,
    details     VARCHAR,
    prev_hash   VARCHAR,
    hash        VARCHAR NOT NULL,
    source      VARCHAR NOT NULL,
    source_ref  VARCHAR NOT NULL,
    ingested_at TIMESTAMP_MS NOT NULL
);
CREATE TABLE actions (
    event_id    VARCHAR NOT NULL,
    case_id     VARCHAR NOT NULL,
    customer_id VARCHAR,
    workflow    VARCHAR,
    step        VARCHAR NOT NULL,
    channel     VARCHAR NOT NULL,
    ts          TIMESTAMP_MS NOT NULL,
    source      VARCHAR NOT NULL,
    source_ref  VARCHAR NOT NULL,
    ingested_at TIMESTAMP_MS NOT NULL
);
-- Every input that could not be read, with a reason a person understands.
-- event_id is a hash of (source, source_ref, reason, raw) so re-ingesting
-- the same bad input adds no second row.
CREATE TABLE rejects (
    event_id    VARCHAR NOT NULL,
    source      VARCHAR NOT NULL,
    source_ref  VARCHAR NOT NULL,
    reason      VARCHAR NOT NULL,
    raw         VARCHAR,
    ingested_at TIMESTAMP_MS NOT NULL
);
