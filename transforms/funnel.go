package transforms

import (
	"context"
	"database/sql"
	"fmt"
	"math"
	"sort"
	"time"

	"github.com/closedloop/closedloop/config"
	"github.com/closedloop/closedloop/store"
)

// FunnelOptions configure Funnel.
type FunnelOptions struct {
	// Pricing is the rate card behind the cost figures.
	Pricing config.Pricing
	// FallbackWait is reported with the figures (the facts were built with
	// the calendars' wait; see FunnelSettings).
	FallbackWait time.Duration
}

// FunnelStep is one step of a workflow funnel.
type FunnelStep struct {
	Step  string `json:"step"`
	Cases int64  `json:"cases"`
	// Share is Cases over the triggered cases (null when none).
	Share *float64 `json:"share_of_triggered"`
	// Dropped counts cases that reached the previous step but not this one;
	// WithoutPrevious those that reached this step without the previous
	// one (e.g. a read without a read receipt, or a completion by an
	// agent outside the in-message action).
	Dropped         int64 `json:"dropped"`
	WithoutPrevious int64 `json:"without_previous"`
	// CaseIDs are the cases that reached the step (drill-down).
	CaseIDs []string `json:"-"`
}

// SequenceRow is completion by channel sequence.
type SequenceRow struct {
	Sequence   string   `json:"sequence"`
	Cases      int64    `json:"cases"`
	Completed  int64    `json:"completed"`
	Completion *float64 `json:"completion_rate"`
}

// CostLine is the spend on one channel and pricing category.
type CostLine struct {
	Channel  string  `json:"channel"`
	Category string  `json:"pricing_category,omitempty"`
	Country  string  `json:"country,omitempty"`
	Messages int64   `json:"messages"`
	Billable int64   `json:"billable"`
	Rate     float64 `json:"rate"`
	Cost     float64 `json:"cost"`
	// Unpriced is set when WhatsApp messages were billable but the rate
	// card has no rate for their category (they cost 0 here).
	Unpriced bool `json:"unpriced,omitempty"`
}

// Cost is the messaging spend on a workflow's cases opened in the period.
type Cost struct {
	Currency  string  `json:"currency"`
	Total     float64 `json:"total"`
	WhatsApp  float64 `json:"whatsapp"`
	SMS       float64 `json:"sms"`
	Email     float64 `json:"email"`
	Completed int64   `json:"completed_cases"`
	// PerCompleted is Total over the completed cases: what one finished
	// task cost in messages, the failures' spend included (null when none
	// completed).
	PerCompleted *float64   `json:"cost_per_completed_case"`
	Lines        []CostLine `json:"lines"`
}

// FunnelResult is one workflow's funnel over cases opened in [From, To).
type FunnelResult struct {
	Workflow       string        `json:"workflow"`
	From           string        `json:"from"`
	To             string        `json:"to"`
	Cutoff         string        `json:"cutoff"`
	Steps          []FunnelStep  `json:"steps"`
	Fallback       int64         `json:"fallback_cases"`
	FallbackRate   *float64      `json:"fallback_rate"`
	FallbackWhy    []Count       `json:"fallback_reasons,omitempty"`
	FallbackWait   float64       `json:"fallback_wait_seconds"`
	Deflected      int64         `json:"deflected_cases"`
	DeflectionRate *float64      `json:"deflection_rate"`
	Sequences      []SequenceRow `json:"channel_sequences"`
	Cost           Cost          `json:"cost"`
}

// funnelRow is what Funnel reads of fact_funnel.
type funnelRow struct {
	caseID, workflow, sequence, reason string
	reached                            [7]bool
	fallback, deflected, completed     bool
}

// Funnels returns the funnel of every workflow with cases opened in the
// period, sorted by workflow. Call Ensure first.
func Funnels(ctx context.Context, st store.Store, req Request, opt FunnelOptions) ([]FunnelResult, error) {
	rows, err := funnelRows(ctx, st, req, "")
	if err != nil {
		return nil, err
	}
	by := map[string][]funnelRow{}
	var names []string
	for _, r := range rows {
		if _, ok := by[r.workflow]; !ok {
			names = append(names, r.workflow)
		}
		by[r.workflow] = append(by[r.workflow], r)
	}
	sort.Strings(names)
	costs, err := costRows(ctx, st)
	if err != nil {
		return nil, err
	}
	out := make([]FunnelResult, 0, len(names))
	for _, n := range names {
		out = append(out, funnelOf(n, by[n], costs, req, opt))
	}
	return out, nil
}

// Funnel returns one workflow's funnel ("" for all workflow cases
// together) over cases opened in [req.From, req.To), as of the facts'
// cutoff. Call Ensure first.
func Funnel(ctx context.Context, st store.Store, req Request, workflow string, opt FunnelOptions) (FunnelResult, error) {
	rows, err := funnelRows(ctx, st, req, workflow)
	if err != nil {
		return FunnelResult{}, err
	}
	costs, err := costRows(ctx, st)
	if err != nil {
		return FunnelResult{}, err
	}
	return funnelOf(workflow, rows, costs, req, opt), nil
}

func funnelRows(ctx context.Context, st store.Store, req Request, workflow string) ([]funnelRow, error) {
	dl := dialectFor(st.Dialect())
	var out []funnelRow
	err := eachRow(ctx, st.DB(), "fact_funnel", `SELECT case_id, workflow, channel_sequence, delivered_at, read_at,
			action_started_at, identity_validated_at, completed_at, written_back, fallback, fallback_reason, deflected
		FROM fact_funnel WHERE opened_at >= $1 AND opened_at < $2 ORDER BY case_id`,
		[]any{dl.timeArg(req.From.UTC()), dl.timeArg(req.To.UTC())}, func(rs *sql.Rows) error {
			var r funnelRow
			var seq, reason sql.NullString
			var delivered, read, started, validated, completed dbTime
			var written, fallback, deflected dbBool
			if err := rs.Scan(&r.caseID, &r.workflow, &seq, &delivered, &read, &started, &validated, &completed,
				&written, &fallback, &reason, &deflected); err != nil {
				return err
			}
			if workflow != "" && r.workflow != workflow {
				return nil
			}
			r.sequence, r.reason = seq.String, reason.String
			r.reached = [7]bool{true, delivered.Valid, read.Valid, started.Valid, validated.Valid, completed.Valid, written.bool && completed.Valid}
			r.fallback, r.deflected, r.completed = fallback.bool, deflected.bool, completed.Valid
			out = append(out, r)
			return nil
		})
	return out, err
}

// caseCost is one fact_case_costs row.
type caseCost struct {
	channel, category, business string
	messages, billable          int64
}

func costRows(ctx context.Context, st store.Store) (map[string][]caseCost, error) {
	out := map[string][]caseCost{}
	err := eachRow(ctx, st.DB(), "fact_case_costs", `SELECT case_id, channel, pricing_category, business_number, messages, billable
		FROM fact_case_costs`, nil, func(rs *sql.Rows) error {
		var id string
		var c caseCost
		var cat, bus sql.NullString
		if err := rs.Scan(&id, &c.channel, &cat, &bus, &c.messages, &c.billable); err != nil {
			return err
		}
		c.category, c.business = cat.String, bus.String
		out[id] = append(out[id], c)
		return nil
	})
	return out, err
}

func rate(n, d int64) *float64 {
	if d == 0 {
		return nil
	}
	v := float64(n) / float64(d)
	return &v
}

func funnelOf(workflow string, rows []funnelRow, costs map[string][]caseCost, req Request, opt FunnelOptions) FunnelResult {
	wait := opt.FallbackWait
	if wait <= 0 {
		wait = DefaultFallbackWait
	}
	f := FunnelResult{Workflow: workflow, From: req.From.UTC().Format(time.RFC3339), To: req.To.UTC().Format(time.RFC3339),
		Cutoff: req.Cutoff.UTC().Format(time.RFC3339), FallbackWait: wait.Seconds()}
	triggered := int64(len(rows))
	for i, name := range FunnelSteps {
		s := FunnelStep{Step: name}
		for _, r := range rows {
			if r.reached[i] {
				s.Cases++
				s.CaseIDs = append(s.CaseIDs, r.caseID)
			}
			if i > 0 {
				switch {
				case r.reached[i-1] && !r.reached[i]:
					s.Dropped++
				case !r.reached[i-1] && r.reached[i]:
					s.WithoutPrevious++
				}
			}
		}
		s.Share = rate(s.Cases, triggered)
		f.Steps = append(f.Steps, s)
	}
	why := map[string]int64{}
	seqs := map[string]*SequenceRow{}
	var completed int64
	for _, r := range rows {
		if r.fallback {
			f.Fallback++
			why[r.reason]++
		}
		if r.deflected {
			f.Deflected++
		}
		if r.completed {
			completed++
		}
		key := r.sequence
		if key == "" {
			key = "(no message)"
		}
		s := seqs[key]
		if s == nil {
			s = &SequenceRow{Sequence: key}
			seqs[key] = s
		}
		s.Cases++
		if r.completed {
			s.Completed++
		}
	}
	f.FallbackRate = rate(f.Fallback, triggered)
	f.DeflectionRate = rate(f.Deflected, triggered)
	for k, v := range why {
		f.FallbackWhy = append(f.FallbackWhy, Count{Key: k, Count: v})
	}
	sort.Slice(f.FallbackWhy, func(i, j int) bool { return f.FallbackWhy[i].Key < f.FallbackWhy[j].Key })
	for _, s := range seqs {
		s.Completion = rate(s.Completed, s.Cases)
		f.Sequences = append(f.Sequences, *s)
	}
	sort.Slice(f.Sequences, func(i, j int) bool {
		a, b := f.Sequences[i], f.Sequences[j]
		if a.Cases != b.Cases {
			return a.Cases > b.Cases
		}
		return a.Sequence < b.Sequence
	})
	f.Cost = costOf(rows, costs, opt.Pricing, completed)
	return f
}

// costOf prices the messages of the cases: billable WhatsApp messages at
// the rate of their pricing category and the billing country of their
// business number (config pricing.countries; else the category's default
// rate), every outbound SMS at sms_unit and every e-mail at email_unit.
func costOf(rows []funnelRow, costs map[string][]caseCost, pr config.Pricing, completed int64) Cost {
	type key struct{ channel, cat, country string }
	lines := map[key]*CostLine{}
	c := Cost{Currency: pr.Currency, Completed: completed}
	if c.Currency == "" {
		c.Currency = config.DefaultCurrency
	}
	for _, r := range rows {
		for _, cc := range costs[r.caseID] {
			k := key{channel: cc.channel}
			if cc.channel == "whatsapp" {
				k.cat, k.country = cc.category, pr.CountryOf(cc.business)
			}
			l := lines[k]
			if l == nil {
				l = &CostLine{Channel: k.channel, Category: k.cat, Country: k.country}
				switch k.channel {
				case "whatsapp":
					rt, ok := pr.WhatsAppRate(k.cat, k.country)
					l.Rate, l.Unpriced = rt, !ok
				case "sms":
					l.Rate = pr.SMSUnit
				case "email":
					l.Rate = pr.EmailUnit
				}
				lines[k] = l
			}
			l.Messages += cc.messages
			l.Billable += cc.billable
		}
	}
	for _, l := range lines {
		units := l.Messages
		if l.Channel == "whatsapp" {
			units = l.Billable
			l.Unpriced = l.Unpriced && l.Billable > 0
		} else {
			l.Billable = l.Messages
		}
		l.Cost = round6(float64(units) * l.Rate)
		switch l.Channel {
		case "whatsapp":
			c.WhatsApp += l.Cost
		case "sms":
			c.SMS += l.Cost
		case "email":
			c.Email += l.Cost
		}
		c.Lines = append(c.Lines, *l)
	}
	sort.Slice(c.Lines, func(i, j int) bool {
		a, b := c.Lines[i], c.Lines[j]
		if a.Channel != b.Channel {
			return a.Channel < b.Channel
		}
		if a.Category != b.Category {
			return a.Category < b.Category
		}
		return a.Country < b.Country
	})
	c.WhatsApp, c.SMS, c.Email = round6(c.WhatsApp), round6(c.SMS), round6(c.Email)
	c.Total = round6(c.WhatsApp + c.SMS + c.Email)
	if completed > 0 {
		v := round6(c.Total / float64(completed))
		c.PerCompleted = &v
	}
	return c
}

func round6(v float64) float64 { return math.Round(v*1e6) / 1e6 }

// String renders a funnel step count for logs and errors.
func (s FunnelStep) String() string { return fmt.Sprintf("%s=%d", s.Step, s.Cases) }
