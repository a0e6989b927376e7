package gen

import (
	"math/rand/v2"
	"slices"
)

// stamped is one serialised line waiting for its case to be written.
type stamped struct {
	ts   int64
	seq  int
	line []byte
}

// caseOut collects one case's lines per output so they can be put in time
// order, cut at the end of the period and written together. It is reused
// from case to case.
type caseOut struct {
	seq        int
	meta       []*metaItem
	chatwoot   []stamped
	cases      []stamped
	messages   []stamped
	writebacks []stamped
	consent    []stamped
	actions    []stamped
	twilio     []stamped
	sendgrid   []stamped
}

func (c *caseOut) reset() {
	c.seq = 0
	c.meta = c.meta[:0]
	c.chatwoot = c.chatwoot[:0]
	c.cases = c.cases[:0]
	c.messages = c.messages[:0]
	c.writebacks = c.writebacks[:0]
	c.consent = c.consent[:0]
	c.actions = c.actions[:0]
	c.twilio = c.twilio[:0]
	c.sendgrid = c.sendgrid[:0]
}

func (c *caseOut) add(dst *[]stamped, ts int64, line []byte) {
	c.seq++
	*dst = append(*dst, stamped{ts: ts, seq: c.seq, line: line})
}

func (c *caseOut) addMeta(it *metaItem) {
	c.seq++
	it.seq = c.seq
	c.meta = append(c.meta, it)
}

// writeStamped writes the lines before end in time order.
func writeStamped(s *sink, lines []stamped, end int64) {
	slices.SortStableFunc(lines, func(a, b stamped) int {
		if a.ts != b.ts {
			return cmpInt64(a.ts, b.ts)
		}
		return a.seq - b.seq
	})
	for _, l := range lines {
		if l.ts < end {
			s.write(l.line)
		}
	}
}

func cmpInt64(a, b int64) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

// writeMeta orders a case's Meta items by file position and writes them as
// webhook bodies. Now and then two neighbouring items of the same kind share
// a body, as Meta batches them: two statuses in one value, or two changes in
// one entry.
func writeMeta(s *sink, enc *encoder, q *queue, items []*metaItem, end int64, r *rand.Rand, counts map[string]int) {
	kept := items[:0]
	for _, it := range items {
		if it.ts < end && it.order < end {
			kept = append(kept, it)
		}
	}
	slices.SortStableFunc(kept, func(a, b *metaItem) int {
		if a.order != b.order {
			return cmpInt64(a.order, b.order)
		}
		return a.seq - b.seq
	})
	for i := 0; i < len(kept); i++ {
		it := kept[i]
		if it.msg != nil {
			counts["meta.messages"]++
		} else {
			counts["meta.statuses"]++
		}
		if i+1 < len(kept) && (it.msg == nil) == (kept[i+1].msg == nil) {
			next := kept[i+1]
			switch x := r.Float64(); {
			case x < 0.004 && it.st != nil: // two statuses in one value
				s.write(enc.line(metaBodyOf(q, []*metaItem{it, next})))
				countMeta(counts, next)
				i++
				continue
			case x < 0.006: // two changes in one entry
				s.write(enc.line(metaBodyOf(q, []*metaItem{it}, []*metaItem{next})))
				countMeta(counts, next)
				i++
				continue
			}
		}
		s.write(enc.line(metaBodyOf(q, []*metaItem{it})))
	}
}

func countMeta(counts map[string]int, it *metaItem) {
	if it.msg != nil {
		counts["meta.messages"]++
	} else {
		counts["meta.statuses"]++
	}
}
