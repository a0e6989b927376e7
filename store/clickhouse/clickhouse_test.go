package clickhouse_test

import (
	"context"
	"reflect"
	"testing"
	"time"

	"github.com/closedloop/closedloop/models"
	"github.com/closedloop/closedloop/store"
	"github.com/closedloop/closedloop/store/clickhouse"
	"github.com/closedloop/closedloop/store/clickhouse/chtest"
)

func msg(id, ref string) *models.Message {
	m := &models.Message{MessageID: id, Direction: "inbound", SenderType: "customer", Kind: "text",
		Channel: "whatsapp", TS: time.Date(2026, 3, 2, 10, 0, 0, 123456789, time.UTC)}
	m.EventID = "e-" + id
	m.Source = "test"
	m.SourceRef = ref
	m.IngestedAt = time.Date(2026, 3, 3, 0, 0, 0, 0, time.UTC)
	return m
}

func TestSplitStatements(t *testing.T) {
	got := clickhouse.SplitStatements("-- head; comment\nCREATE TABLE a (x String DEFAULT ';');\n\n-- only a comment\n;SELECT 1;\n-- trailing\n")
	want := []string{"-- head; comment\nCREATE TABLE a (x String DEFAULT ';')", "SELECT 1"}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("got %q, want %q", got, want)
	}
}

func TestParseDSN(t *testing.T) {
	cfg, err := clickhouse.ParseDSN("clickhouse://u:p@127.0.0.1:9000/ops?cluster=two&dial_timeout=5s")
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Database != "ops" || cfg.Cluster != "two" || cfg.Options.Auth.Username != "u" || cfg.Options.Auth.Password != "p" {
		t.Fatalf("parsed %+v", cfg)
	}
	if _, ok := cfg.Options.Settings["cluster"]; ok {
		t.Fatal("cluster must not be sent as a ClickHouse setting")
	}
	if _, err := clickhouse.ParseDSN("clickhouse://127.0.0.1:9000/bad-name"); err == nil {
		t.Fatal("accepted a database name that needs quoting")
	}
}

// TestStoreIntegration checks migrations, deduplicating loads, rejects and
// WriteRows against a real server.
func TestStoreIntegration(t *testing.T) {
	srv := chtest.Start(t)
	ctx := context.Background()
	dsn := srv.DSN("store_test")

	st, err := store.Open(ctx, dsn, store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	s := st.(*clickhouse.Store)
	defer s.Close()

	t.Run("migrations are recorded and idempotent", func(t *testing.T) {
		v1, err := s.SchemaVersion(ctx)
		if err != nil || v1 < 1 {
			t.Fatalf("schema version %d, %v", v1, err)
		}
		s2, err := clickhouse.Open(ctx, dsn, store.Options{})
		if err != nil {
			t.Fatal(err)
		}
		defer s2.Close()
		v2, _ := s2.SchemaVersion(ctx)
		if v2 != v1 {
			t.Fatalf("reopen changed version %d -> %d", v1, v2)
		}
		var n uint64
		if err := s.Conn().QueryRow(ctx, `SELECT count() FROM schema_migrations`).Scan(&n); err != nil || n != uint64(v1) {
			t.Fatalf("schema_migrations has %d rows (%v), want %d", n, err, v1)
		}
	})

	t.Run("load deduplicates on event_id", func(t *testing.T) {
		rej := &models.Reject{Reason: "bad json", Raw: "{"}
		rej.EventID, rej.Source, rej.SourceRef = "r-1", "test", "f:9"
		rej.IngestedAt = time.Date(2026, 3, 3, 0, 0, 0, 0, time.UTC)
		batch := []models.Record{msg("a", "f:1"), msg("b", "f:2"), msg("a", "f:3"), rej}
		added, err := s.Load(ctx, batch)
		if err != nil {
			t.Fatal(err)
		}
		if added[models.TableMessages] != 2 || added[models.TableRejects] != 1 {
			t.Fatalf("first load added %v, want 2 messages (duplicate within batch dropped) and 1 reject", added)
		}
		added, err = s.Load(ctx, batch)
		if err != nil {
			t.Fatal(err)
		}
		if added[models.TableMessages] != 0 || added[models.TableRejects] != 0 {
			t.Fatalf("second load added %v, want nothing", added)
		}
		var ref string
		var ts int64
		if err := s.DB().QueryRowContext(ctx, `SELECT source_ref, ts FROM messages FINAL WHERE event_id = 'e-a'`).Scan(&ref, &ts); err != nil {
			t.Fatal(err)
		}
		if ref != "f:1" {
			t.Errorf("kept %s, want the first occurrence f:1", ref)
		}
		if want := time.Date(2026, 3, 2, 10, 0, 0, 123000000, time.UTC).UnixMilli(); ts != want {
			t.Errorf("ts = %d, want milliseconds %d", ts, want)
		}
		counts, err := s.Counts(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if counts[models.TableMessages] != 2 || counts[models.TableRejects] != 1 {
			t.Fatalf("counts %v", counts)
		}
	})

	t.Run("write rows converts times and nulls", func(t *testing.T) {
		if _, err := s.DB().ExecContext(ctx, `CREATE TABLE w (a String, b Nullable(String), at Int64, ok UInt8, v Float64) ENGINE = MergeTree ORDER BY tuple()`); err != nil {
			t.Fatal(err)
		}
		at := time.Date(2026, 3, 2, 10, 0, 0, 5_000_000, time.UTC)
		if err := s.WriteRows(ctx, "w", [][]any{{"x", nil, at, true, 1.5}, {"y", "z", at, false, 0.0}}); err != nil {
			t.Fatal(err)
		}
		var n, nulls, ms uint64
		if err := s.DB().QueryRowContext(ctx, `SELECT count(), countIf(b IS NULL), toUInt64(max(at)) FROM w`).Scan(&n, &nulls, &ms); err != nil {
			t.Fatal(err)
		}
		if n != 2 || nulls != 1 || int64(ms) != at.UnixMilli() {
			t.Fatalf("count %d, nulls %d, max(at) %d", n, nulls, ms)
		}
	})
}
