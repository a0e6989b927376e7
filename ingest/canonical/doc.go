// Package canonical reads closedloop's own canonical JSON Lines and CSV
// files (SPEC §2): one event per line, field names verbatim, CSV with a
// header row of them. See README.md in this folder for every table's
// columns, allowed values and example lines.
//
// # Collectors
//
// One collector per table is registered so that `--source NAME` can force a
// file onto a table: "cases" (case_events), "messages", "writebacks",
// "consent" (consent_events), "templates" (template_events), "audit"
// (audit_events) and "actions". Their Detect always returns false, so under
// `--source auto` they never steal documents from each other or from the
// webhook collectors. The "canonical" collector is the one `auto` uses: it
// recognises the table of each line from the fields present.
//
// # Recognition rules
//
// A field counts as present when it has a value: null and "" (an empty CSV
// cell) count as absent, so a CSV whose header has every column still
// works. Rules are tried in this order; the first match wins:
//
//  1. case_id and event                        → case_events
//  2. writeback_id, or idempotency_key+attempt → writebacks
//  3. step                                     → actions
//  4. audit_id, or hash and action             → audit_events
//  5. template_name and status, no message_id  → template_events
//  6. customer_id and status opt_in|opt_out, no case_id → consent_events
//  7. message_id and direction                 → messages
//
// Detect additionally refuses documents with a top-level "object" field
// (Meta webhooks) and documents with "event" but no "case_id" (Chatwoot and
// SendGrid webhooks): canonical case events always carry both. Detect scans
// only the top-level keys of the object, without decoding it, because under
// `auto` it runs for every document of every source.
//
// # Values
//
// Identifiers and free text are JSON strings; a JSON number is accepted and
// kept as its decimal text (12345 → "12345"). Timestamps go through
// ingest.ParseTime: RFC 3339 with an offset or Z, or Unix seconds (string or
// number); milliseconds are refused, not guessed. attempt is a positive whole
// number given as 2 or "2"; manual is true/false, "true"/"false", "1"/"0",
// "yes"/"no" or empty (false). Enum values are matched case-insensitively and
// stored in lower case. Unknown extra fields are ignored. Customer ids are
// pseudonymised with env.Pseudo.Customer before anything else sees them.
//
// # event_id
//
// A line's own event_id field is used when present. Otherwise the id is
// models.HashID over the table name and the row's normalised, typed values in
// the column order of models.Columns: timestamps as Unix milliseconds (the
// store's resolution), defaults applied (channel whatsapp, attempt 1, derived
// writeback and audit ids), enums in lower case, numbers as decimal text,
// booleans as true/false, audit details as compact JSON, customer ids as
// their pseudonyms. Hashing the values rather
// than the raw text makes the id independent of the file's spelling: the same
// event written as JSONL or as CSV, with "2026-03-02T10:00:00+01:00" or
// Unix seconds, gets the same id, so re-ingesting it is a no-op. The
// pseudonym rather than the raw number is hashed so that an event_id never
// becomes a dictionary-attack oracle for a customer's phone number.
package canonical
