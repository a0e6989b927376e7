package duckdb

import (
	"context"
	"testing"

	"github.com/closedloop/closedloop/models"
	"github.com/closedloop/closedloop/store"
)

// TestKeysInGoAndSQLAgree checks keyOf against the SQL of migration 0005
// and LoadWithState, for SHA-256 hex ids and for ids of any other form.
func TestKeysInGoAndSQLAgree(t *testing.T) {
	s, _ := openTemp(t)
	defer s.Close()
	k1, k2 := sqlKeys("id")
	for _, id := range []string{
		models.HashID("meta", "message", "wamid.1"),
		"ffffffffffffffff0000000000000001ffffffffffffffffffffffffffffffff",
		"FFFFFFFFFFFFFFFF0000000000000001FFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFF", // upper case: hashed
		"e-a",
		"",
		"ünïcode id",
		models.HashID("x")[:63], // one short: hashed
	} {
		var got eventKey
		if err := s.DB().QueryRow("SELECT "+k1+", "+k2+" FROM (SELECT ? AS id)", id).Scan(&got.k1, &got.k2); err != nil {
			t.Fatalf("%q: %v", id, err)
		}
		if want := keyOf(id); got != want {
			t.Errorf("%q: SQL key %x/%x, Go key %x/%x", id, got.k1, got.k2, want.k1, want.k2)
		}
	}
	if keyOf("e-a") == keyOf("e-b") {
		t.Error("two ids gave one key")
	}
}

// TestKeysMigrationCoversOlderStores stores rows the way a store made
// before migration 0005 holds them (no keys), re-applies the migration and
// checks that loading the same events again adds nothing.
func TestKeysMigrationCoversOlderStores(t *testing.T) {
	ctx := context.Background()
	s, path := openTemp(t)
	batch := []models.Record{msg("a", "f:1"), msg("b", "f:2")}
	if _, err := s.Load(ctx, batch); err != nil {
		t.Fatal(err)
	}
	for _, q := range []string{"DELETE FROM schema_migrations WHERE version >= 5"} {
		if _, err := s.DB().Exec(q); err != nil {
			t.Fatal(err)
		}
	}
	for _, tb := range append(append([]models.Table(nil), models.EventTables...), models.TableRejects) {
		if _, err := s.DB().Exec("DROP TABLE " + keyTable(tb)); err != nil {
			t.Fatal(err)
		}
	}
	s.Close()
	s2, err := Open(ctx, path, store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer s2.Close()
	var n int
	if err := s2.DB().QueryRow("SELECT count(*) FROM " + keyTable(models.TableMessages)).Scan(&n); err != nil || n != 2 {
		t.Fatalf("migration stored %d message keys (%v), want 2", n, err)
	}
	added, err := s2.Load(ctx, append(batch, msg("c", "f:3")))
	if err != nil {
		t.Fatal(err)
	}
	if added[models.TableMessages] != 1 {
		t.Fatalf("reload added %d messages, want only the new one", added[models.TableMessages])
	}
}
