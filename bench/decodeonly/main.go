// Command decodeonly runs closedloop's ingest pipeline (read, parallel
// decode, validation, pseudonymisation, ordered batching) with a loader
// that discards the records, for bench/run: it shows how much of an
// ingest's time is decoding and how much is the store.
//
//	decodeonly INPUT...
//
// It prints "records N" and "seconds S".
package main

import (
	"context"
	"fmt"
	"os"
	"time"

	"github.com/closedloop/closedloop/ingest"
	_ "github.com/closedloop/closedloop/ingest/all"
	"github.com/closedloop/closedloop/models"
	"github.com/closedloop/closedloop/pii"
)

// discard counts the records it is given.
type discard struct{ n int }

func (d *discard) Load(_ context.Context, recs []models.Record) (map[models.Table]int, error) {
	d.n += len(recs)
	return nil, nil
}

func main() {
	if len(os.Args) < 2 {
		fmt.Fprintln(os.Stderr, "usage: decodeonly INPUT...")
		os.Exit(2)
	}
	p, err := pii.New([]byte("decodeonly-bench-key-0123456789abcdef"), false)
	if err != nil {
		fmt.Fprintln(os.Stderr, "decodeonly:", err)
		os.Exit(1)
	}
	var d discard
	start := time.Now()
	if _, err := ingest.Run(context.Background(), ingest.Options{Env: &ingest.Env{Pseudo: p}, Loader: &d}, os.Args[1:]); err != nil {
		fmt.Fprintln(os.Stderr, "decodeonly:", err)
		os.Exit(1)
	}
	fmt.Printf("records %d\nseconds %.3f\n", d.n, time.Since(start).Seconds())
}
