package ingest

import (
	"context"

	"github.com/closedloop/closedloop/models"
)

// KeepLoader keeps every record it is given, in load order, and stores
// nothing: for tools and tests that want the decoded records themselves.
// It reports no rows added.
type KeepLoader struct{ Records []models.Record }

// Load implements Loader.
func (k *KeepLoader) Load(_ context.Context, recs []models.Record) (map[models.Table]int, error) {
	k.Records = append(k.Records, recs...)
	return nil, nil
}
