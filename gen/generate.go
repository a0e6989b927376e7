package gen

import (
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"time"
)

// run holds the state of one Generate call (nothing is package-level).
type run struct {
	o        Options
	seed     int64
	w        *world
	start    int64
	end      int64
	weeks    int
	pool     int32
	planRand *rand.Rand
	enc      *encoder
	counts   map[string]int

	meta, chatwoot, cases, messages, writebacks, consent, templates, audit *sink
	actions, twilio, sendgrid                                              *sink
	auditLog                                                               *auditLog
	sinks                                                                  []*sink
	malformers                                                             []*malformer

	// Per-run mutable state, indexed densely.
	actualCust   []int32 // planning index → customer who actually had the case
	busyUntil    []int64 // customer → end of their latest case
	consentState []uint8 // customer → consentSeen|consentOut

	// Sequences that give ids in processing order.
	convSeq, wfSeq, cwMsgSeq, wbSeq, consentSeq int

	// Dated changes inside the period.
	flowV13At, pausedAt int64

	out caseOut
}

// Generate simulates o.Cases cases over o.Weeks weeks ending at o.End and
// writes the source files into o.Out. It streams: memory use grows with the
// number of cases (a few dozen bytes each), not with the number of events.
func Generate(ctx context.Context, o Options) (Result, error) {
	o, err := o.withDefaults(time.Now)
	if err != nil {
		return Result{}, fmt.Errorf("checking generator options: %w", err)
	}
	w, err := newWorld()
	if err != nil {
		return Result{}, fmt.Errorf("building the simulated operation: %w", err)
	}
	rn, err := newRun(o, w)
	if err != nil {
		return Result{}, err
	}
	res, err := rn.generate(ctx)
	if cerr := rn.closeAll(); err == nil && cerr != nil {
		err = cerr
	}
	if err != nil {
		return Result{}, err
	}
	return res, nil
}

func newRun(o Options, w *world) (*run, error) {
	end := o.End.UnixMilli()
	rn := &run{o: o, seed: o.Seed, w: w, end: end, start: end - int64(o.Weeks)*week, weeks: max(o.Weeks, 1),
		planRand: newRand(o.Seed, streamPlan), enc: newEncoder(), counts: map[string]int{}}
	rn.pool = int32(max(1, o.Cases*7/10))
	for _, d := range []string{"meta", "chatwoot", "workflow", "twilio", "sendgrid"} {
		if err := os.MkdirAll(filepath.Join(o.Out, d), 0o755); err != nil {
			return nil, fmt.Errorf("creating output directory: %w", err)
		}
	}
	// Rotated files of an earlier, larger run would be read as part of this one.
	for _, d := range []string{"meta/webhooks", "chatwoot/webhooks", "twilio/callbacks", "sendgrid/events"} {
		old, _ := filepath.Glob(filepath.Join(o.Out, d+"-[0-9][0-9][0-9][0-9].jsonl"))
		for _, f := range old {
			if err := os.Remove(f); err != nil {
				return nil, fmt.Errorf("removing stale output: %w", err)
			}
		}
	}
	mal := func(n uint64, ts []string, enums ...badEnum) *malformer {
		m := newMalformer(newRand(o.Seed, streamSink+n), o.MalformedRate, ts, enums)
		rn.malformers = append(rn.malformers, m)
		return m
	}
	cwTimes := []string{"created_at", "updated_at", "timestamp", "last_activity_at", "waiting_since",
		"agent_last_seen_at", "contact_last_seen_at"}
	wf := filepath.Join(o.Out, "workflow")
	rn.meta = newSink("meta", filepath.Join(o.Out, "meta"), "webhooks", rotateLines,
		mal(1, []string{"timestamp"}, badEnum{"status", "deliverd"}))
	rn.chatwoot = newSink("chatwoot", filepath.Join(o.Out, "chatwoot"), "webhooks", rotateLines,
		mal(2, cwTimes, badEnum{"message_type", "inbound"}, badEnum{"status", "closed"}))
	rn.cases = newSink("cases", wf, "cases", 0, mal(3, []string{"ts"}, badEnum{"event", "closed"}))
	rn.messages = newSink("messages", wf, "messages", 0, mal(4, []string{"ts"}, badEnum{"direction", "sideways"}))
	rn.writebacks = newSink("writebacks", wf, "writebacks", 0, mal(5, []string{"ts"}, badEnum{"status", "succeeded"}))
	rn.consent = newSink("consent", wf, "consent", 0, mal(6, []string{"ts"}, badEnum{"status", "subscribed"}))
	rn.actions = newSink("actions", wf, "actions", 0, mal(7, []string{"ts"}, badEnum{"step", "clicked"}))
	// A broken form line is cut short (no longer a JSON string).
	rn.twilio = newSink("twilio", filepath.Join(o.Out, "twilio"), "callbacks", rotateLines, mal(8, nil))
	rn.sendgrid = newSink("sendgrid", filepath.Join(o.Out, "sendgrid"), "events", rotateLines,
		mal(9, []string{"timestamp"}, badEnum{"event", "opend"}))
	// Templates and the audit chain are never broken: one lost approval or
	// link would change what the data means, not just its quality.
	rn.templates = newSink("templates", wf, "templates", 0, nil)
	rn.audit = newSink("audit", wf, "audit", 0, nil)
	rn.sinks = []*sink{rn.meta, rn.chatwoot, rn.cases, rn.messages, rn.writebacks, rn.consent, rn.templates, rn.audit,
		rn.actions, rn.twilio, rn.sendgrid}
	rn.auditLog = newAuditLog(rn.audit, end)
	rn.actualCust = make([]int32, o.Cases)
	rn.busyUntil = make([]int64, rn.pool)
	rn.consentState = make([]uint8, rn.pool)
	rn.periodMarks()
	return rn, nil
}

func (rn *run) generate(ctx context.Context) (Result, error) {
	rn.writeTemplates()
	rn.scheduleGovernance()
	plan := rn.plan()
	total := len(plan)
	every := max(1, total/200)
	for i := range plan {
		if i%256 == 0 {
			if err := ctx.Err(); err != nil {
				return Result{}, fmt.Errorf("generating cases: %w", err)
			}
		}
		pc := &plan[i]
		rn.auditLog.flushBefore(pc.ts)
		rn.simulate(pc)
		if err := rn.firstError(); err != nil {
			return Result{}, err
		}
		if rn.o.Progress != nil && ((i+1)%every == 0 || i+1 == total) {
			rn.o.Progress(i+1, total)
		}
	}
	rn.auditLog.flushAll()
	if err := rn.closeAll(); err != nil {
		return Result{}, err
	}
	res := Result{Cases: total, Events: map[string]int{}}
	for _, s := range rn.sinks {
		res.Files = append(res.Files, s.files...)
		res.Events[s.kind] = s.lines
	}
	for k, v := range rn.counts {
		res.Events[k] = v
	}
	for _, m := range rn.malformers {
		res.Malformed += m.count
	}
	return res, nil
}

func (rn *run) firstError() error {
	if rn.enc.err != nil {
		return rn.enc.err
	}
	if rn.auditLog.enc.err != nil {
		return rn.auditLog.enc.err
	}
	for _, s := range rn.sinks {
		if s.err != nil {
			return s.err
		}
	}
	return nil
}

// closeAll closes every sink once; later calls return the first error.
func (rn *run) closeAll() error {
	var first error
	for _, s := range rn.sinks {
		if err := s.close(); err != nil && first == nil {
			first = err
		}
	}
	return first
}

// simulate runs one case and writes its lines.
func (rn *run) simulate(pc *plannedCase) {
	rn.out.reset()
	s := &caseSim{run: rn, r: newRand(rn.seed, streamCase+uint64(pc.idx)), cr: newRand(rn.seed, streamChannel+uint64(pc.idx)),
		pc: pc, q: rn.w.queues[pc.queue]}
	s.cust = newCustomer(rn.seed, rn.chooseCustomer(s))
	rn.actualCust[pc.idx] = s.cust.idx
	s.convID = hexID(s.r, 32)
	if pc.kind == kindWorkflow {
		s.wf = &rn.w.workflows[pc.workflow]
		rn.wfSeq++
		s.caseID = fmt.Sprintf("WF-%07d", rn.wfSeq)
		s.runWorkflow()
	} else {
		s.cat = &rn.w.categories[pc.category]
		s.runConversation()
	}
	s.settle()
	rn.busyUntil[s.cust.idx] = min(max(s.last, pc.ts), rn.end)
	writeMeta(rn.meta, rn.enc, s.q, rn.out.meta, rn.end, s.r, rn.counts)
	writeStamped(rn.chatwoot, rn.out.chatwoot, rn.end)
	writeStamped(rn.cases, rn.out.cases, rn.end)
	writeStamped(rn.messages, rn.out.messages, rn.end)
	writeStamped(rn.writebacks, rn.out.writebacks, rn.end)
	writeStamped(rn.consent, rn.out.consent, rn.end)
	writeStamped(rn.actions, rn.out.actions, rn.end)
	writeStamped(rn.twilio, rn.out.twilio, rn.end)
	writeStamped(rn.sendgrid, rn.out.sendgrid, rn.end)
}

// chooseCustomer returns the case's customer: a follow-up keeps the
// customer of the case it follows; other cases avoid customers who still
// have a case in progress (Chatwoot keeps one open conversation per contact
// and inbox, and the pipeline links Meta messages to the case open at the
// time), trying a few other customers before accepting an overlap.
func (rn *run) chooseCustomer(s *caseSim) int32 {
	pc := s.pc
	if pc.parent >= 0 {
		return rn.actualCust[pc.parent]
	}
	c := pc.cust
	for try := 0; try < 8 && rn.busyUntil[c] > pc.ts; try++ {
		c = int32(s.r.IntN(int(rn.pool)))
	}
	return c
}
