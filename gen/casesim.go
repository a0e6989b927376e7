package gen

import (
	"math/rand/v2"
)

// caseSim simulates one case. Its methods advance through the case's life
// and record what each source would have sent; anything at or after the end
// of the period is dropped when the case is written.
type caseSim struct {
	*run
	r    *rand.Rand
	cr   *rand.Rand // the case's channel stream (channels.go)
	pc   *plannedCase
	q    *queue
	cust customer
	cat  *categorySpec // conversation cases
	wf   *workflowSpec // workflow cases
	// caseID is the canonical id of a workflow case.
	caseID string
	conv   *cwConv // conversation cases
	// msgSeq numbers the WhatsApp messages of the case (for wamids).
	msgSeq int
	// lastInbound is when the customer last wrote (0: never), which opens
	// WhatsApp's 24-hour window for free-form replies.
	lastInbound int64
	// pending holds delivered outbound messages whose read status depends
	// on when the customer next writes.
	pending []*outMsg
	// lastOut is the latest outbound message (the context of a reply).
	lastOut *outMsg
	// convID is the Meta conversation id shown in statuses of this case.
	convID string
	last   int64 // latest event time, for the customer's busy marker
	// viaNumber, when set, is the number the case's agent messages really
	// went through (a personal phone instead of the queue's number).
	viaNumber string
}

// past reports whether t is at or after the end of the period, where the
// simulation of a case stops.
func (s *caseSim) past(t int64) bool { return t >= s.end }

func (s *caseSim) touch(t int64) {
	if t > s.last {
		s.last = t
	}
}

// outMsg is one outbound WhatsApp message and its delivery fate.
type outMsg struct {
	id        string
	sent      int64
	delivered int64 // 0: not delivered
	err       *metaErrorSpec
	category  string // pricing category
	template  bool
}

// inbound describes a customer message.
type inbound struct {
	typ      string // text, image, document, interactive, button
	text     string // body, caption, or the chosen title
	ctxID    string // the business message answered (buttons and lists)
	replyID  string // button/list id or button payload
	listType string // button_reply or list_reply for interactive
	filename string
}

func textIn(body string) inbound { return inbound{typ: "text", text: body} }

func (s *caseSim) newWamid() string {
	s.msgSeq++
	return wamid(s.seed, s.pc.idx, s.msgSeq, s.cust.waID, s.r)
}

// customerSays records a customer message: Meta's inbound webhook and, for
// conversations, Chatwoot's message_created with the same wamid. It also
// settles the read status of what the customer saw before writing.
func (s *caseSim) customerSays(t int64, in inbound) string {
	id := s.metaInbound(t, in)
	if s.conv != nil {
		s.cwIncoming(t+between(s.r, 200, 1500), in, id)
	}
	return id
}

// metaInbound records only the Meta side of a customer message.
func (s *caseSim) metaInbound(t int64, in inbound) string {
	s.markRead(t)
	id := s.newWamid()
	m := &metaMessage{From: s.cust.waID, ID: id, Timestamp: unixSecString(t), Type: in.typ}
	if in.ctxID != "" {
		m.Context = &metaContext{From: s.q.display, ID: in.ctxID}
	}
	switch in.typ {
	case "text":
		m.Text = &metaText{Body: in.text}
	case "image":
		m.Image = &metaMedia{Caption: in.text, MimeType: "image/jpeg", SHA256: hexID(s.r, 43) + "=", ID: digitsID(s.r, 16)}
	case "document":
		m.Document = &metaMedia{Caption: in.text, Filename: in.filename, MimeType: "application/pdf", SHA256: hexID(s.r, 43) + "=", ID: digitsID(s.r, 16)}
	case "interactive":
		reply := &metaReply{ID: in.replyID, Title: in.text}
		m.Interactive = &metaInteractive{Type: in.listType}
		if in.listType == "list_reply" {
			m.Interactive.ListReply = reply
		} else {
			m.Interactive.ButtonReply = reply
		}
	case "button":
		m.Button = &metaButton{Payload: in.replyID, Text: in.text}
	}
	var from metaContact
	from.Profile.Name = s.cust.profileName()
	from.WaID = s.cust.waID
	s.out.addMeta(&metaItem{ts: t, order: t, msg: m, from: from})
	s.lastInbound = t
	s.touch(t)
	return id
}

// send records an outbound message and decides its delivery. Templates may
// fail for the customer's number or Meta's engagement limits; free-form
// replies fail with 131047 outside the 24-hour window.
func (s *caseSim) send(t int64, template bool, category string) *outMsg {
	o := &outMsg{id: s.newWamid(), sent: t, category: category, template: template}
	o.err = s.fate(t, template, category)
	s.lastOut = o
	if o.err == nil {
		d := int64(lognormal(s.r, 2500, 0.6))
		if chance(s.r, 0.08) { // phone offline for a while
			d += int64(lognormal(s.r, float64(40*minute), 1.2))
		}
		o.delivered = t + 500 + d
	}
	s.touch(t)
	if o.err != nil {
		s.emitStatuses(o, 0)
	} else {
		s.pending = append(s.pending, o)
	}
	return o
}

func (s *caseSim) fate(t int64, template bool, category string) *metaErrorSpec {
	if template {
		switch {
		case s.cust.badNumber:
			return ref(errUndeliverable)
		case s.cust.experiment:
			return ref(errExperiment)
		}
		p := 0.04
		if category == "marketing" {
			p = 0.15
		}
		if chance(s.r, p) {
			return ref(errEcosystem)
		}
		if chance(s.r, 0.008) {
			return ref(errUndeliverable)
		}
		return nil
	}
	if s.lastInbound == 0 || t-s.lastInbound > 24*hour {
		return ref(errReengagement)
	}
	if chance(s.r, 0.002) {
		return ref(errUndeliverable)
	}
	return nil
}

// ref returns a pointer to a copy, so the error table is never shared.
func ref(e metaErrorSpec) *metaErrorSpec { return &e }

// markRead settles pending messages delivered before the customer writes
// at t: the customer read them just before answering.
func (s *caseSim) markRead(t int64) {
	keep := s.pending[:0]
	for _, o := range s.pending {
		if o.delivered >= t {
			keep = append(keep, o)
			continue
		}
		var read int64
		if !s.cust.noReceipts {
			lo := max(o.delivered+500, t-90*second)
			read = between(s.r, lo, t)
		}
		s.emitStatuses(o, read)
	}
	s.pending = keep
}

// settle decides the read status of messages still pending when the case
// ends: most are read a little later, some never.
func (s *caseSim) settle() {
	for _, o := range s.pending {
		var read int64
		if !s.cust.noReceipts && chance(s.r, 0.7) {
			read = o.delivered + 1000 + int64(lognormal(s.r, float64(3*minute), 1.5))
		}
		s.emitStatuses(o, read)
	}
	s.pending = s.pending[:0]
}

// emitStatuses writes the Meta statuses of one outbound message: sent,
// delivered, read (read at 0: not read) or failed. Meta's quirks are
// reproduced: some "read" arrive before "delivered" in the file, some
// "delivered" never arrive, and about 2% of statuses are delivered twice.
func (s *caseSim) emitStatuses(o *outMsg, read int64) {
	sentAt := o.sent + between(s.r, 300, 2500)
	if o.delivered > 0 && sentAt >= o.delivered {
		sentAt = o.delivered - 100
	}
	if o.err != nil {
		if o.err.code == errUndeliverable.code && chance(s.r, 0.5) {
			s.status(o, "sent", sentAt, nil)
		}
		s.status(o, "failed", sentAt+between(s.r, 1000, 20*second), o.err)
		return
	}
	s.status(o, "sent", sentAt, nil)
	dropDelivered := read > 0 && chance(s.r, 0.04)
	var delivered *metaItem
	if !dropDelivered {
		delivered = s.status(o, "delivered", o.delivered, nil)
	}
	if read > 0 {
		r := s.status(o, "read", read, nil)
		if delivered != nil && chance(s.r, 0.12) {
			r.order = delivered.order - 1 // read lands before delivered
		}
	}
}

func (s *caseSim) status(o *outMsg, status string, t int64, e *metaErrorSpec) *metaItem {
	st := &metaStatus{ID: o.id, Status: status, Timestamp: unixSecString(t), RecipientID: s.cust.waID}
	if e != nil {
		st.Errors = []metaError{newMetaError(*e)}
	} else if status != "read" {
		c := &metaConversation{ID: s.convID, ExpirationTimestamp: unixSecString(o.sent + 24*hour)}
		c.Origin.Type = o.category
		st.Conversation = c
		st.Pricing = &metaPricing{Billable: o.template, PricingModel: "PMP", Type: "regular", Category: o.category}
		if !o.template {
			st.Pricing.Type = "free_customer_service"
		}
	}
	it := &metaItem{ts: t, order: t, st: st}
	s.out.addMeta(it)
	if chance(s.r, 0.02) {
		dup := *it
		dup.order = t + between(s.r, 1000, 10*minute)
		s.out.addMeta(&dup)
	}
	s.touch(t)
	return it
}
