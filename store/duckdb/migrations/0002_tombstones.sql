-- Retention (closedloop retention apply) deletes old events and leaves one
-- tombstone per deleted row: which event it was, when it happened, and its
-- Merkle leaf hash exactly as an evidence bundle computes it (audit/README.md),
-- so bundles made before the deletion can still be matched against the store.
-- audit_events rows are never deleted, so the audit chain stays whole.
CREATE TABLE tombstones (
    table_name VARCHAR NOT NULL,
    event_id   VARCHAR NOT NULL,
    ts         TIMESTAMP_MS,
    leaf_hash  VARCHAR NOT NULL,
    deleted_at TIMESTAMP_MS NOT NULL
);
