-- Raw layer: one table per canonical event kind (SPEC §2), the same columns
-- in the same order as the DuckDB store (models.Columns).
--
-- Timestamps (ts, ingested_at) are Int64 milliseconds since the Unix epoch,
-- UTC: ClickHouse 18.16 has no DateTime64, and DateTime alone would drop the
-- milliseconds that order events and measure durations. Booleans are UInt8.
--
-- Tables are ReplacingMergeTree ordered by event_id: the store already skips
-- events whose event_id is stored (Load), and the merge removes any duplicate
-- that two concurrent loads might still add; the transforms read with FINAL.
--
-- In cluster mode each statement creates <table>_local on every node and a
-- Distributed table <table> over them, sharded by the `shard_key` comment
-- (cases stay together on one shard).

-- shard_key: cityHash64(ifNull(case_id, message_id))
CREATE TABLE IF NOT EXISTS messages (
    event_id        String,
    message_id      String,
    case_id         Nullable(String),
    customer_id     Nullable(String),
    direction       String,
    sender_type     String,
    kind            String,
    template_name   Nullable(String),
    channel         String,
    business_number Nullable(String),
    ts              Int64,
    source          String,
    source_ref      String,
    ingested_at     Int64
) ENGINE = ReplacingMergeTree ORDER BY event_id;

-- shard_key: cityHash64(message_id)
CREATE TABLE IF NOT EXISTS message_statuses (
    event_id         String,
    message_id       String,
    status           String,
    ts               Int64,
    error_code       Nullable(String),
    error_title      Nullable(String),
    pricing_category Nullable(String),
    billable         Nullable(UInt8),
    channel          String,
    customer_id      Nullable(String),
    source           String,
    source_ref       String,
    ingested_at      Int64
) ENGINE = ReplacingMergeTree ORDER BY event_id;

-- shard_key: cityHash64(case_id)
CREATE TABLE IF NOT EXISTS case_events (
    event_id    String,
    case_id     String,
    customer_id Nullable(String),
    event       String,
    ts          Int64,
    queue       Nullable(String),
    category    Nullable(String),
    workflow    Nullable(String),
    actor       Nullable(String),
    reason      Nullable(String),
    closure_tag Nullable(String),
    source      String,
    source_ref  String,
    ingested_at Int64
) ENGINE = ReplacingMergeTree ORDER BY event_id;

-- shard_key: cityHash64(ifNull(case_id, writeback_id))
CREATE TABLE IF NOT EXISTS writebacks (
    event_id        String,
    writeback_id    String,
    case_id         Nullable(String),
    workflow        Nullable(String),
    target_system   Nullable(String),
    action          Nullable(String),
    idempotency_key Nullable(String),
    attempt         Int32,
    status          String,
    manual          UInt8,
    ts              Int64,
    error           Nullable(String),
    source          String,
    source_ref      String,
    ingested_at     Int64
) ENGINE = ReplacingMergeTree ORDER BY event_id;

-- shard_key: cityHash64(customer_id)
CREATE TABLE IF NOT EXISTS consent_events (
    event_id       String,
    customer_id    String,
    channel        String,
    status         String,
    ts             Int64,
    consent_source Nullable(String),
    source         String,
    source_ref     String,
    ingested_at    Int64
) ENGINE = ReplacingMergeTree ORDER BY event_id;

-- shard_key: cityHash64(template_name)
CREATE TABLE IF NOT EXISTS template_events (
    event_id      String,
    template_name String,
    status        String,
    ts            Int64,
    actor         Nullable(String),
    source        String,
    source_ref    String,
    ingested_at   Int64
) ENGINE = ReplacingMergeTree ORDER BY event_id;

-- shard_key: cityHash64(event_id)
CREATE TABLE IF NOT EXISTS audit_events (
    event_id    String,
    audit_id    String,
    ts          Int64,
    actor       Nullable(String),
    actor_role  Nullable(String),
    action      String,
    object_type Nullable(String),
    object_id   Nullable(String),
    details     Nullable(String),
    prev_hash   Nullable(String),
    hash        String,
    source      String,
    source_ref  String,
    ingested_at Int64
) ENGINE = ReplacingMergeTree ORDER BY event_id;

-- shard_key: cityHash64(case_id)
CREATE TABLE IF NOT EXISTS actions (
    event_id    String,
    case_id     String,
    customer_id Nullable(String),
    workflow    Nullable(String),
    step        String,
    channel     String,
    ts          Int64,
    source      String,
    source_ref  String,
    ingested_at Int64
) ENGINE = ReplacingMergeTree ORDER BY event_id;

-- Every input that could not be read, with a reason a person understands.
-- event_id is a hash of (source, source_ref, reason, raw).
-- shard_key: cityHash64(event_id)
CREATE TABLE IF NOT EXISTS rejects (
    event_id    String,
    source      String,
    source_ref  String,
    reason      String,
    raw         Nullable(String),
    ingested_at Int64
) ENGINE = ReplacingMergeTree ORDER BY event_id;
