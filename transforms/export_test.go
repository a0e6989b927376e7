package transforms

import (
	"context"
	"time"

	"github.com/closedloop/closedloop/store"
)

// ComputeWeeksInGo is ComputeWeeks reading every unit row and aggregating
// in Go, as it does on ClickHouse: the reference for the SQL aggregation.
func ComputeWeeksInGo(ctx context.Context, st store.Store, req Request, starts []time.Time) ([][]Figure, error) {
	return computeWeeks(ctx, st, req, starts, true)
}
