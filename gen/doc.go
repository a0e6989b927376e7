// Package gen simulates a WhatsApp customer-service operation and writes the
// input files closedloop ingests, in the real formats of each source:
//
//	meta/webhooks-0001.jsonl …      WhatsApp Cloud API webhook bodies (inbound messages, statuses)
//	chatwoot/webhooks-0001.jsonl …  Chatwoot webhook bodies (conversations, messages, noise)
//	workflow/cases.jsonl            canonical case events of workflow runs
//	workflow/messages.jsonl         canonical outbound messages of workflow runs (templates, bot, agent)
//	workflow/writebacks.jsonl       canonical writeback attempts
//	workflow/consent.jsonl          canonical consent events
//	workflow/templates.jsonl        canonical template approval events
//	workflow/audit.jsonl            canonical audit events forming a SHA-256 hash chain
//
// The simulator exists so that the demo, the benchmarks and the KPI tests run
// on data that looks like production: several queues in different time
// zones, bots and agents, handovers with reasons, delivery failures with
// Meta's real error codes, statuses out of order and repeated, consent and
// template governance problems, writeback retries and a sprinkle of broken
// lines. Output is a pure function of Options: the same options and seed give
// byte-identical files, because every random draw comes from a PCG stream
// derived from the seed and nothing depends on map order or the clock.
//
// Generation is streaming. Case open times are planned up front (a few bytes
// per case), then each case is simulated on its own and its lines are written
// before the next case starts, so memory stays flat however many events are
// written. Each file is therefore in case order (cases in order of opening,
// each case's lines in time order), not in strict global time order; the audit
// log alone is kept in time order, through a small buffer, because it is a
// hash chain.
package gen
