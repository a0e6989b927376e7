-- Dedup keys. Every stored event's id is kept here once more as two
-- UBIGINTs, the first 128 bits of its SHA-256 (event ids are SHA-256 hex;
-- any other id is hashed first). A load looks up its batch's keys here:
-- 16 bytes per stored event to scan instead of a 64-character string, so
-- the check stays cheap as the store grows. Keys are never deleted: an
-- event removed by retention is not ingested again.

CREATE TABLE event_keys_messages (k1 UBIGINT NOT NULL, k2 UBIGINT NOT NULL);
INSERT INTO event_keys_messages
SELECT DISTINCT ('0x' || substr(h, 1, 16))::UBIGINT, ('0x' || substr(h, 17, 16))::UBIGINT
FROM (SELECT CASE WHEN regexp_full_match(event_id, '[0-9a-f]{64}') THEN event_id ELSE sha256(event_id) END AS h FROM messages);
CREATE TABLE event_keys_message_statuses (k1 UBIGINT NOT NULL, k2 UBIGINT NOT NULL);
INSERT INTO event_keys_message_statuses
SELECT DISTINCT ('0x' || substr(h, 1, 16))::UBIGINT, ('0x' || substr(h, 17, 16))::UBIGINT
FROM (SELECT CASE WHEN regexp_full_match(event_id, '[0-9a-f]{64}') THEN event_id ELSE sha256(event_id) END AS h FROM message_statuses);
CREATE TABLE event_keys_case_events (k1 UBIGINT NOT NULL, k2 UBIGINT NOT NULL);
INSERT INTO event_keys_case_events
SELECT DISTINCT ('0x' || substr(h, 1, 16))::UBIGINT, ('0x' || substr(h, 17, 16))::UBIGINT
FROM (SELECT CASE WHEN regexp_full_match(event_id, '[0-9a-f]{64}') THEN event_id ELSE sha256(event_id) END AS h FROM case_events);
CREATE TABLE event_keys_writebacks (k1 UBIGINT NOT NULL, k2 UBIGINT NOT NULL);
INSERT INTO event_keys_writebacks
SELECT DISTINCT ('0x' || substr(h, 1, 16))::UBIGINT, ('0x' || substr(h, 17, 16))::UBIGINT
FROM (SELECT CASE WHEN regexp_full_match(event_id, '[0-9a-f]{64}') THEN event_id ELSE sha256(event_id) END AS h FROM writebacks);
CREATE TABLE event_keys_consent_events (k1 UBIGINT NOT NULL, k2 UBIGINT NOT NULL);
INSERT INTO event_keys_consent_events
SELECT DISTINCT ('0x' || substr(h, 1, 16))::UBIGINT, ('0x' || substr(h, 17, 16))::UBIGINT
FROM (SELECT CASE WHEN regexp_full_match(event_id, '[0-9a-f]{64}') THEN event_id ELSE sha256(event_id) END AS h FROM consent_events);
CREATE TABLE event_keys_template_events (k1 UBIGINT NOT NULL, k2 UBIGINT NOT NULL);
INSERT INTO event_keys_template_events
SELECT DISTINCT ('0x' || substr(h, 1, 16))::UBIGINT, ('0x' || substr(h, 17, 16))::UBIGINT
FROM (SELECT CASE WHEN regexp_full_match(event_id, '[0-9a-f]{64}') THEN event_id ELSE sha256(event_id) END AS h FROM template_events);
CREATE TABLE event_keys_audit_events (k1 UBIGINT NOT NULL, k2 UBIGINT NOT NULL);
INSERT INTO event_keys_audit_events
SELECT DISTINCT ('0x' || substr(h, 1, 16))::UBIGINT, ('0x' || substr(h, 17, 16))::UBIGINT
FROM (SELECT CASE WHEN regexp_full_match(event_id, '[0-9a-f]{64}') THEN event_id ELSE sha256(event_id) END AS h FROM audit_events);
CREATE TABLE event_keys_actions (k1 UBIGINT NOT NULL, k2 UBIGINT NOT NULL);
INSERT INTO event_keys_actions
SELECT DISTINCT ('0x' || substr(h, 1, 16))::UBIGINT, ('0x' || substr(h, 17, 16))::UBIGINT
FROM (SELECT CASE WHEN regexp_full_match(event_id, '[0-9a-f]{64}') THEN event_id ELSE sha256(event_id) END AS h FROM actions);
CREATE TABLE event_keys_rejects (k1 UBIGINT NOT NULL, k2 UBIGINT NOT NULL);
INSERT INTO event_keys_rejects
SELECT DISTINCT ('0x' || substr(h, 1, 16))::UBIGINT, ('0x' || substr(h, 17, 16))::UBIGINT
FROM (SELECT CASE WHEN regexp_full_match(event_id, '[0-9a-f]{64}') THEN event_id ELSE sha256(event_id) END AS h FROM rejects);
