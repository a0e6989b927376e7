package ingesttest

import (
	"errors"

	"github.com/closedloop/closedloop/ingest"
)

func isSkip(err error) bool { return errors.Is(err, ingest.ErrSkip) }
