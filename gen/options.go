package gen

import (
	"errors"
	"fmt"
	"time"
)

// Defaults used when an Options field is left at its zero value.
const (
	DefaultCases         = 20000
	DefaultWeeks         = 12
	DefaultMalformedRate = 0.005
	// rotateLines bounds the lines of one webhook file so that a 10M-event
	// run still yields files a person can open and tools can split up.
	rotateLines = 500_000
)

// Options configures one simulation run.
type Options struct {
	// Out is the directory the files are written to (created if missing).
	Out string
	// Cases is the number of cases (conversations and workflow runs) to simulate.
	Cases int
	// Seed selects the random streams; the same options and seed give the same bytes.
	Seed int64
	// Weeks is the length of the simulated period.
	Weeks int
	// End is the end of the simulated period (exclusive). No event is written
	// at or after it, as if the files were a snapshot taken at End. Default:
	// the Monday 00:00 UTC on or before now; callers pass it explicitly for
	// reproducibility.
	End time.Time
	// MalformedRate is the share of lines replaced by broken variants
	// (truncated JSON, a timestamp of the wrong type, a bad enum value).
	// Zero means DefaultMalformedRate; a negative value disables them.
	MalformedRate float64
	// Progress, if set, is called now and then with the number of cases done.
	Progress func(done, total int)
}

// Result summarises a run.
type Result struct {
	// Files lists every file written, in creation order.
	Files []string
	// Events counts lines per output kind ("meta", "chatwoot", "cases",
	// "messages", "writebacks", "consent", "templates", "audit"), malformed
	// lines included, plus finer counts under dotted names
	// ("meta.messages", "meta.statuses", "chatwoot.message_created", …).
	Events map[string]int
	// Cases is the number of cases simulated.
	Cases int
	// Malformed is the number of lines deliberately broken.
	Malformed int
}

// withDefaults fills zero values and checks the rest, reporting every
// problem at once.
func (o Options) withDefaults(now func() time.Time) (Options, error) {
	if o.Cases == 0 {
		o.Cases = DefaultCases
	}
	if o.Weeks == 0 {
		o.Weeks = DefaultWeeks
	}
	if o.MalformedRate == 0 {
		o.MalformedRate = DefaultMalformedRate
	}
	if o.MalformedRate < 0 {
		o.MalformedRate = 0
	}
	if o.End.IsZero() {
		o.End = MondayOnOrBefore(now())
	}
	o.End = o.End.UTC()
	var errs []error
	if o.Out == "" {
		errs = append(errs, errors.New("out: an output directory is required"))
	}
	if o.Cases < 0 {
		errs = append(errs, fmt.Errorf("cases: %d is negative", o.Cases))
	}
	if o.Weeks < 0 {
		errs = append(errs, fmt.Errorf("weeks: %d is negative", o.Weeks))
	}
	if o.Weeks > 520 {
		errs = append(errs, fmt.Errorf("weeks: %d is more than ten years", o.Weeks))
	}
	if o.MalformedRate >= 0.5 {
		errs = append(errs, fmt.Errorf("malformed rate: %g must be below 0.5", o.MalformedRate))
	}
	return o, errors.Join(errs...)
}

// MondayOnOrBefore returns the Monday 00:00 UTC on or before t, the default
// end of the simulated period (whole weeks make weekly packs line up).
func MondayOnOrBefore(t time.Time) time.Time {
	t = t.UTC()
	day := time.Date(t.Year(), t.Month(), t.Day(), 0, 0, 0, 0, time.UTC)
	back := (int(day.Weekday()) + 6) % 7 // days since Monday
	return day.AddDate(0, 0, -back)
}
