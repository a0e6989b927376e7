package gen

import "slices"

// Kinds of case.
const (
	kindConversation uint8 = iota
	kindWorkflow
)

// plannedCase is what is decided about a case before simulation: when it
// opens, what it is and who the customer is. It is small on purpose: the
// plan of every case is held in memory while events are streamed.
type plannedCase struct {
	ts       int64 // opening time, Unix ms
	idx      int32 // planning index: the case's random stream
	parent   int32 // planning index of the case this one follows up (-1: none)
	cust     int32 // customer pool index (before any reassignment)
	kind     uint8
	queue    uint8
	category uint8 // index into world.categories (conversations)
	workflow uint8 // index into world.workflows (workflow runs)
}

// Hourly arrival weights in the queue's local time. Customers write during
// the day with a lunchtime dip and fewer at weekends; the engine sends in
// office hours on weekdays (and a little on Saturday).
var (
	customerHours = [24]float64{0.04, 0.02, 0.02, 0.02, 0.03, 0.06, 0.15, 0.35, 0.65, 0.95, 1, 1,
		0.85, 0.8, 0.9, 0.95, 0.9, 0.8, 0.7, 0.6, 0.5, 0.4, 0.25, 0.1}
	customerDays = [7]float64{0.35, 1.15, 1, 0.95, 0.95, 0.9, 0.5} // Sunday first
	engineHours  = [24]float64{8: 0.5, 9: 1, 10: 1, 11: 0.8, 12: 0.5, 13: 0.6, 14: 0.8, 15: 0.7, 16: 0.6, 17: 0.4, 18: 0.2}
	engineDays   = [7]float64{0, 1, 1, 1, 1, 1, 0.15}
)

// arrivalWeight is the relative chance that a case of this kind opens at
// ms in queue q; volume also grows by about a third over the period.
func (rn *run) arrivalWeight(kind uint8, q *queue, ms int64) float64 {
	lt := q.cal.local(ms)
	var w float64
	if kind == kindWorkflow {
		w = engineHours[lt.Hour()] * engineDays[lt.Weekday()]
	} else {
		w = customerHours[lt.Hour()] * customerDays[lt.Weekday()]
	}
	frac := float64(ms-rn.start) / float64(rn.end-rn.start)
	return w * (0.85 + 0.3*frac)
}

// maxWeight bounds arrivalWeight (peak day × peak hour × growth).
const maxWeight = 1.15 * 1.15

// drawTime samples an opening time by rejection against arrivalWeight.
func (rn *run) drawTime(kind uint8, q *queue, from, to int64) int64 {
	for i := 0; ; i++ {
		ms := between(rn.planRand, from, to)
		if i > 200 || rn.planRand.Float64()*maxWeight < rn.arrivalWeight(kind, q, ms) {
			return ms
		}
	}
}

// plan decides every case and returns them in opening order. About 7% are
// follow-ups: the same customer writing again a few hours to a week after
// an earlier case, which drives the repeat-contact KPI.
func (rn *run) plan() []plannedCase {
	r := rn.planRand
	n := rn.o.Cases
	followUps := n * 7 / 100
	base := n - followUps
	cases := make([]plannedCase, 0, n)
	catW := make([]float64, len(rn.w.categories))
	for i, c := range rn.w.categories {
		catW[i] = c.weight
	}
	wfW := make([]float64, len(rn.w.workflows))
	for i, wf := range rn.w.workflows {
		wfW[i] = wf.weight
	}
	for i := 0; i < base; i++ {
		pc := plannedCase{idx: int32(i), parent: -1, cust: int32(r.IntN(int(rn.pool)))}
		if chance(r, 0.43) {
			pc.kind = kindWorkflow
			pc.workflow = uint8(pickWeighted(r, wfW))
			pc.queue = uint8(rn.w.byQueue[rn.w.workflows[pc.workflow].queue].index)
		} else {
			pc.kind = kindConversation
			pc.category = uint8(pickWeighted(r, catW))
			pc.queue = uint8(rn.w.byQueue[pick(r, rn.w.categories[pc.category].queues)].index)
		}
		pc.ts = rn.drawTime(pc.kind, rn.w.queues[pc.queue], rn.start, rn.lastOpen())
		cases = append(cases, pc)
	}
	for i := base; i < n; i++ {
		pc := plannedCase{idx: int32(i), parent: -1, kind: kindConversation}
		for try := 0; try < 60 && base > 0; try++ {
			p := cases[r.IntN(base)]
			ts := p.ts + between(r, 3*hour, 6*day+12*hour)
			q := rn.w.queues[p.queue]
			if ts >= rn.lastOpen() || r.Float64()*maxWeight >= rn.arrivalWeight(kindConversation, q, ts) {
				continue
			}
			pc.parent, pc.cust, pc.ts = p.idx, p.cust, ts
			pc.category = rn.followUpCategory(p)
			break
		}
		if pc.parent < 0 { // no parent fits: an ordinary conversation
			pc.cust = int32(r.IntN(int(rn.pool)))
			pc.category = uint8(pickWeighted(r, catW))
		}
		pc.queue = uint8(rn.w.byQueue[pick(r, rn.w.categories[pc.category].queues)].index)
		if pc.parent < 0 {
			pc.ts = rn.drawTime(pc.kind, rn.w.queues[pc.queue], rn.start, rn.lastOpen())
		}
		cases = append(cases, pc)
	}
	slices.SortFunc(cases, func(a, b plannedCase) int {
		if a.ts != b.ts {
			return cmpInt64(a.ts, b.ts)
		}
		return int(a.idx - b.idx)
	})
	return cases
}

// lastOpen bounds opening times a few seconds before the end, so that every
// planned case leaves a trace (a conversation is created a second or two
// after its first message).
func (rn *run) lastOpen() int64 { return rn.end - 5*second }

// followUpCategory picks the category of a follow-up: the parent's topic,
// or a complaint when the first contact did not go well.
func (rn *run) followUpCategory(p plannedCase) uint8 {
	name := ""
	if p.kind == kindWorkflow {
		switch rn.w.workflows[p.workflow].category {
		case "arrears":
			name = "payment_status"
		case "address_change":
			name = "address_change"
		default:
			name = "document_request"
		}
	} else {
		name = rn.w.categories[p.category].name
	}
	if chance(rn.planRand, 0.25) {
		name = "complaint"
	}
	for i, c := range rn.w.categories {
		if c.name == name {
			return uint8(i)
		}
	}
	return 0
}

// periodMarks are dated changes inside the period, placed relative to its
// length so that every run has a before and an after.
func (rn *run) periodMarks() {
	mid := rn.start + int64(rn.weeks/2)*week
	rn.flowV13At = mid + 2*day + 10*hour // a Wednesday morning, UTC
	rn.pausedAt = rn.start + (rn.end-rn.start)*55/100
	rn.pausedAt -= rn.pausedAt % hour
}
