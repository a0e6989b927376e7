package transforms

import (
	"context"
	"time"

	"github.com/closedloop/closedloop/store"
)

// ComputeWeeks evaluates the KPIs for consecutive periods [starts[i],
// starts[i+1]) (the last one ends at req.To) with one query per KPI over
// the whole span, instead of one per period: trend charts cost the same as
// a single week. Results equal calling Compute for each period.
func ComputeWeeks(ctx context.Context, st store.Store, req Request, starts []time.Time) ([][]Figure, error) {
	if len(starts) == 0 {
		return nil, nil
	}
	defs, err := Definitions(st.Dialect())
	if err != nil {
		return nil, err
	}
	if req.Loc == nil {
		req.Loc = time.UTC
	}
	ends := make([]time.Time, len(starts))
	for i := range starts {
		if i+1 < len(starts) {
			ends[i] = starts[i+1]
		} else {
			ends[i] = req.To
		}
	}
	out := make([][]Figure, len(starts))
	span := req
	span.From = starts[0]
	for _, d := range defs {
		rows, err := units(ctx, st, d, span)
		if err != nil {
			return nil, err
		}
		for i := range starts {
			var in []unitRow
			for _, r := range rows {
				if !r.periodTS.Before(starts[i]) && r.periodTS.Before(ends[i]) {
					in = append(in, r)
				}
			}
			week := req
			week.From, week.To = starts[i], ends[i]
			out[i] = append(out[i], figures(d, in, week)...)
		}
	}
	return out, nil
}
