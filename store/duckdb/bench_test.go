package duckdb

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/closedloop/closedloop/ingest"
	"github.com/closedloop/closedloop/models"
)

// benchStatuses makes n delivery statuses shaped like the Meta collector's
// (64-hex event ids, wamid message ids, pseudonymised customers, one
// source_ref per line), numbered from start.
func benchStatuses(start, n int) []models.Record {
	out := make([]models.Record, n)
	now := time.Date(2026, 3, 2, 0, 0, 0, 0, time.UTC)
	billable := true
	for i := range out {
		k := start + i
		r := &models.MessageStatus{
			MessageID: fmt.Sprintf("wamid.HBgLMzQ2MTgzODgyODQVAgASGBQ%028X=", k/3), Status: []string{"sent", "delivered", "read"}[k%3],
			TS: now.Add(time.Duration(k) * time.Second), PricingCategory: "utility", Billable: &billable,
			Channel: "whatsapp", CustomerID: fmt.Sprintf("c_%032x", k/20),
		}
		r.EventID = models.HashID("bench", fmt.Sprint(k))
		r.Source, r.SourceRef, r.IngestedAt = "meta", fmt.Sprintf("/data/meta/webhooks-0001.jsonl:%d", k+1), now
		out[i] = r
	}
	return out
}

// BenchmarkLoadBatch loads batches of 50 000 new statuses, one commit per
// batch (Load), into a store that grows as the benchmark runs; ns/op is per
// batch, and records/s is reported.
func BenchmarkLoadBatch(b *testing.B) {
	benchLoad(b, func(s *Store, recs []models.Record, _ int) error {
		_, err := s.Load(context.Background(), recs)
		return err
	})
}

// BenchmarkLoadPart is the ingest pipeline's path: parts of 50 000 in one
// transaction, committed every 500 000 records.
func BenchmarkLoadPart(b *testing.B) {
	benchLoad(b, func(s *Store, recs []models.Record, i int) error {
		cp := ingest.FileCheckpoint{Path: "/data/meta/webhooks-0001.jsonl", Source: "auto", DocsDone: int64(i)}
		_, err := s.LoadPart(context.Background(), recs, cp, (i+1)%10 == 0)
		return err
	})
}

func benchLoad(b *testing.B, load func(s *Store, recs []models.Record, i int) error) {
	const batch = 50_000
	s, _ := openTemp(b)
	defer s.Close()
	batches := make([][]models.Record, 4)
	for i := range batches {
		batches[i] = benchStatuses(i*batch, batch)
	}
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		b.StopTimer()
		// New event ids for every batch: shift the precomputed ones.
		recs := batches[i%len(batches)]
		for j, r := range recs {
			r.Base().EventID = models.HashID("bench", fmt.Sprint(i*batch+j))
		}
		b.StartTimer()
		if err := load(s, recs, i); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.N*batch)/b.Elapsed().Seconds(), "records/s")
}
