package gen

import (
	"fmt"
	"time"
)

// The simulated company. Names and numbers are fictional; the structure is
// what matters: four queues in four time zones, conversation categories
// handled in Chatwoot and workflows run by an automation engine.

const (
	wabaID      = "102290129340398" // WhatsApp Business Account id (entry[].id)
	accountID   = 1
	accountName = "Northwind Finance"
	botID       = 1
	botName     = "Northwind Assistant"
	engineActor = "workflow-engine"
	emailDomain = "northwind.example"
)

// queueSpec describes a queue: its zone and business hours (the calendar the
// closedloop configuration should declare for it), its Chatwoot inbox and
// its WhatsApp business number.
type queueSpec struct {
	name    string
	tz      string
	hours   map[time.Weekday][]string
	inboxID int
	// display is the business number as Meta shows it; phoneID is Meta's
	// phone_number_id, used as business_number in canonical messages.
	display, phoneID string
	// pickupMedian is the median business minutes before an agent answers.
	pickupMedian float64
	agents       []string
}

var weekdays = []time.Weekday{time.Monday, time.Tuesday, time.Wednesday, time.Thursday, time.Friday}

func weekdayHours(spans ...string) map[time.Weekday][]string {
	m := map[time.Weekday][]string{}
	for _, d := range weekdays {
		m[d] = spans
	}
	return m
}

func withSaturday(m map[time.Weekday][]string, spans ...string) map[time.Weekday][]string {
	m[time.Saturday] = spans
	return m
}

// queueSpecs is the fixed queue table. A closedloop configuration that wants
// SLA figures to reflect what was simulated declares the same calendars;
// DemoConfigYAML prints them.
func queueSpecs() []queueSpec {
	return []queueSpec{
		{name: "collections", tz: "Europe/London", hours: withSaturday(weekdayHours("08:00-20:00"), "09:00-13:00"),
			inboxID: 1, display: "443300000101", phoneID: "106540352242901", pickupMedian: 4,
			agents: []string{"Olivia Bennett", "Harry Clarke", "Amelia Hughes", "Jack Turner", "Isla Morgan", "George Patel", "Sophie Walsh"}},
		{name: "payments", tz: "Europe/Madrid", hours: weekdayHours("09:00-14:00", "15:00-18:00"),
			inboxID: 2, display: "34910000102", phoneID: "106540352242902", pickupMedian: 7,
			agents: []string{"Lucia Romero", "Javier Ortega", "Carmen Vidal", "Pablo Serrano", "Elena Molina"}},
		{name: "address_changes", tz: "America/New_York", hours: weekdayHours("09:00-17:00"),
			inboxID: 3, display: "18005550103", phoneID: "106540352242903", pickupMedian: 5,
			agents: []string{"Emily Carter", "Michael Brooks", "Ashley Rivera", "David Kim", "Jessica Nguyen"}},
		{name: "documents", tz: "Asia/Singapore", hours: weekdayHours("09:00-18:00"),
			inboxID: 4, display: "6560000104", phoneID: "106540352242904", pickupMedian: 6,
			agents: []string{"Wei Ling Tan", "Arjun Nair", "Mei Chen", "Hafiz Rahman", "Grace Lim", "Daniel Goh"}},
	}
}

// categorySpec describes a conversation category (a customer-initiated
// Chatwoot conversation with no workflow behind it).
type categorySpec struct {
	name   string
	weight float64
	queues []string
	// openP is the share created directly as "open" (no bot); handoverP the
	// share of bot conversations handed to an agent.
	openP, handoverP float64
	reasons          []weighted[string]
	tags             []string // closure labels agents use
	botTag           string   // the label the bot puts on conversations it resolves
	openers          []string
}

func categorySpecs() []categorySpec {
	return []categorySpec{
		{name: "billing_question", weight: 0.22, queues: []string{"collections"}, openP: 0.08, handoverP: 0.35,
			reasons: []weighted[string]{{"customer_request", 0.5}, {"no_workflow", 0.3}, {"dispute", 0.1}, {"identity_failed", 0.1}},
			tags:    []string{"info_given", "billing_corrected", "refund_issued"}, botTag: "info_given",
			openers: []string{"Hi, why is my bill higher this month?", "I don't understand this charge on my statement", "Can you explain the fee on my account?", "hello I was charged twice"}},
		{name: "payment_status", weight: 0.25, queues: []string{"payments"}, openP: 0.05, handoverP: 0.25,
			reasons: []weighted[string]{{"customer_request", 0.45}, {"no_workflow", 0.25}, {"payment_declined", 0.2}, {"identity_failed", 0.1}},
			tags:    []string{"payment_confirmed", "info_given", "paid"}, botTag: "payment_confirmed",
			openers: []string{"Has my payment gone through?", "I paid yesterday but it still shows overdue", "When will my transfer arrive?", "hola, did you receive my payment?"}},
		{name: "address_change", weight: 0.15, queues: []string{"address_changes"}, openP: 0.08, handoverP: 0.40,
			reasons: []weighted[string]{{"identity_failed", 0.3}, {"customer_request", 0.35}, {"no_workflow", 0.2}, {"ineligible", 0.15}},
			tags:    []string{"address_changed", "info_given"}, botTag: "address_changed",
			openers: []string{"I moved, how do I update my address?", "Please change my mailing address", "New address for my account"}},
		{name: "document_request", weight: 0.13, queues: []string{"documents"}, openP: 0.08, handoverP: 0.50,
			reasons: []weighted[string]{{"document_unreadable", 0.35}, {"customer_request", 0.35}, {"no_workflow", 0.2}, {"identity_failed", 0.1}},
			tags:    []string{"document_sent", "info_given"}, botTag: "document_sent",
			openers: []string{"I need a copy of my statement", "Can you send me a balance letter?", "Where do I get my tax certificate?"}},
		{name: "complaint", weight: 0.10, queues: []string{"collections", "payments"}, openP: 0.30, handoverP: 0.80,
			reasons: []weighted[string]{{"dispute", 0.5}, {"customer_request", 0.4}, {"no_workflow", 0.1}},
			tags:    []string{"complaint_logged", "refund_issued", "escalated"}, botTag: "complaint_logged",
			openers: []string{"This is the third time I'm writing, nobody helps", "I want to make a complaint", "Your collector called me at 10pm"}},
		{name: "other", weight: 0.15, queues: []string{"collections", "payments", "address_changes", "documents"}, openP: 0.10, handoverP: 0.45,
			reasons: []weighted[string]{{"no_workflow", 0.5}, {"customer_request", 0.5}},
			tags:    []string{"info_given", "duplicate", "spam"}, botTag: "info_given",
			openers: []string{"hi", "Hello?", "Can I speak to someone", "What are your opening hours?"}},
	}
}

// writebackTarget is one system of record a completed workflow writes to.
type writebackTarget struct{ system, action string }

// workflowSpec describes an automated workflow: trigger template, the
// customer's chance of answering, exception paths and where it writes back.
type workflowSpec struct {
	name, queue, category string
	weight                float64
	trigger, reminder     string // template names
	identity              bool   // sends an authentication (OTP) template
	documents             bool   // the customer uploads documents
	respondP              float64
	handoverP             float64 // among customers who answer
	reasons               []weighted[string]
	completeAfterHandover float64
	doneTags              []string
	failTags              []string
	writebacks            []writebackTarget
	// Exception detours (document collection: many ways for a run to end).
	// reviewRejectP: bot-completed runs whose upload the back office
	// rejects on review (a handover after completion); escalateP:
	// handovers the agent escalates to manual review (a second handover);
	// awaitP: runs an agent could not finish that are closed awaiting the
	// document and reopened when the customer sends it.
	reviewRejectP, escalateP, awaitP float64
}

func workflowSpecs() []workflowSpec {
	return []workflowSpec{
		{name: "promise_to_pay", queue: "collections", category: "arrears", weight: 0.50,
			trigger: "payment_reminder_v3", reminder: "ptp_followup_v1", respondP: 0.85, handoverP: 0.20,
			reasons:               []weighted[string]{{"payment_declined", 0.35}, {"dispute", 0.25}, {"customer_request", 0.25}, {"ineligible", 0.1}, {"identity_failed", 0.05}},
			completeAfterHandover: 0.45, doneTags: []string{"promise_recorded", "promise_recorded", "paid"},
			failTags:   []string{"dispute_logged", "customer_declined", "referred_to_branch"},
			writebacks: []writebackTarget{{"core_banking", "record_promise"}}},
		{name: "address_update", queue: "address_changes", category: "address_change", weight: 0.20,
			trigger: "address_update_request_v2", reminder: "address_update_request_v2", identity: true, respondP: 0.78, handoverP: 0.28,
			reasons:               []weighted[string]{{"identity_failed", 0.5}, {"ineligible", 0.2}, {"customer_request", 0.3}},
			completeAfterHandover: 0.5, doneTags: []string{"address_changed"},
			failTags:   []string{"ineligible", "referred_to_branch"},
			writebacks: []writebackTarget{{"crm", "update_address"}}},
		{name: "document_collection", queue: "documents", category: "document_request", weight: 0.22,
			trigger: "document_request_v4", reminder: "document_reminder_v1", documents: true, respondP: 0.75, handoverP: 0.45,
			reasons:               []weighted[string]{{"document_unreadable", 0.5}, {"identity_failed", 0.15}, {"customer_request", 0.2}, {"ineligible", 0.15}},
			completeAfterHandover: 0.55, doneTags: []string{"documents_received"},
			failTags:      []string{"documents_missing", "referred_to_branch"},
			writebacks:    []writebackTarget{{"dms", "store_document"}},
			reviewRejectP: 0.40, escalateP: 0.45, awaitP: 0.45},
		{name: "kyc_refresh", queue: "payments", category: "kyc", weight: 0.08,
			trigger: "kyc_refresh_notice_v1", reminder: "kyc_refresh_reminder_v1", identity: true, documents: true, respondP: 0.70, handoverP: 0.35,
			reasons:               []weighted[string]{{"identity_failed", 0.4}, {"document_unreadable", 0.25}, {"ineligible", 0.15}, {"customer_request", 0.2}},
			completeAfterHandover: 0.4, doneTags: []string{"kyc_refreshed"},
			failTags:   []string{"ineligible", "account_restricted"},
			writebacks: []writebackTarget{{"crm", "update_kyc_status"}, {"dms", "store_document"}}},
	}
}

// templateSpec is a WhatsApp message template and its approval history.
type templateSpec struct {
	name, category string // category is Meta's pricing category
	// lifecycle: "start" approved before the period, "paused" approved then
	// paused midway, "late" approved midway, "rejected" never approved.
	lifecycle string
}

const (
	otpTemplate         = "identity_otp_v2"
	unapprovedTemplate  = "payment_plan_offer_v1"
	pausedTemplate      = "document_reminder_v1"
	replacementTemplate = "document_reminder_v2"
)

func templateSpecs() []templateSpec {
	return []templateSpec{
		{"payment_reminder_v3", "utility", "start"},
		{"ptp_followup_v1", "utility", "start"},
		{"address_update_request_v2", "utility", "start"},
		{"document_request_v4", "utility", "start"},
		{pausedTemplate, "utility", "paused"},
		{"kyc_refresh_notice_v1", "utility", "start"},
		{"kyc_refresh_reminder_v1", "utility", "start"},
		{otpTemplate, "authentication", "start"},
		{replacementTemplate, "utility", "late"},
		{unapprovedTemplate, "marketing", "rejected"},
	}
}

// Meta error codes used for failed deliveries, with their real titles and
// the details text Meta sends.
type metaErrorSpec struct {
	code           int
	title, details string
}

var (
	errReengagement = metaErrorSpec{131047, "Re-engagement message",
		"Message failed to send because more than 24 hours have passed since the customer last replied to this number."}
	errUndeliverable = metaErrorSpec{131026, "Message undeliverable",
		"Message failed to send because the recipient's phone number is not a WhatsApp user or the message could not be delivered."}
	errEcosystem = metaErrorSpec{131049, "This message was not delivered to maintain healthy ecosystem engagement.",
		"In order to maintain a healthy ecosystem engagement, the message failed to be delivered."}
	errExperiment = metaErrorSpec{130472, "User's number is part of an experiment",
		"Failed to send message because this user's phone number is part of an experiment"}
)

// queue is a queueSpec with its calendar loaded.
type queue struct {
	queueSpec
	cal   calendar
	index int
}

// world is the immutable catalog of one run, built once per Generate call.
type world struct {
	queues     []*queue
	byQueue    map[string]*queue
	categories []categorySpec
	workflows  []workflowSpec
	templates  []templateSpec
	tmplCat    map[string]string // template name → pricing category
}

func newWorld() (*world, error) {
	w := &world{byQueue: map[string]*queue{}, categories: categorySpecs(), workflows: workflowSpecs(),
		templates: templateSpecs(), tmplCat: map[string]string{}}
	for i, qs := range queueSpecs() {
		cal, err := newCalendar(qs.tz, qs.hours)
		if err != nil {
			return nil, fmt.Errorf("building queue %s: %w", qs.name, err)
		}
		q := &queue{queueSpec: qs, cal: cal, index: i}
		w.queues = append(w.queues, q)
		w.byQueue[qs.name] = q
	}
	for _, c := range w.categories {
		for _, qn := range c.queues {
			if w.byQueue[qn] == nil {
				return nil, fmt.Errorf("category %s names unknown queue %s", c.name, qn)
			}
		}
	}
	for _, wf := range w.workflows {
		if w.byQueue[wf.queue] == nil {
			return nil, fmt.Errorf("workflow %s names unknown queue %s", wf.name, wf.queue)
		}
	}
	for _, t := range w.templates {
		w.tmplCat[t.name] = t.category
	}
	return w, nil
}

// agentID is the Chatwoot user id of agent i of queue q.
func agentID(q *queue, i int) int { return 10 + q.index*20 + i }

// agentEmail is the agent's login, used as the canonical actor.
func agentEmail(name string) string {
	b := []byte{}
	for i := 0; i < len(name); i++ {
		c := name[i]
		switch {
		case c == ' ':
			b = append(b, '.')
		case c >= 'A' && c <= 'Z':
			b = append(b, c+'a'-'A')
		default:
			b = append(b, c)
		}
	}
	return string(b) + "@" + emailDomain
}
