package ingest

import (
	"context"

	"github.com/closedloop/closedloop/models"
)

// PartLoader is a CheckpointLoader that can keep one transaction open
// across several calls. Run hands it the records in parts of at most
// PartRecords (so that little is held in memory) and asks for a commit
// only every Options.BatchRecords records and at the end of each file:
// the store then writes large, compressed blocks once instead of
// rewriting a partly filled block at every commit.
//
// LoadPart stores recs and file's checkpoint as LoadWithCheckpoint does,
// in the open transaction, and commits everything since the last commit
// when commit is true. A failed call rolls back everything not committed
// (the checkpoint included), so a crash or an error never leaves rows
// without their checkpoint or the other way round.
type PartLoader interface {
	CheckpointLoader
	LoadPart(ctx context.Context, recs []models.Record, file FileCheckpoint, commit bool) (map[models.Table]int, error)
}

// PartRecords bounds the records Run holds per part when its loader is a
// PartLoader (and per batch otherwise, when BatchRecords is larger).
var PartRecords = 50_000
