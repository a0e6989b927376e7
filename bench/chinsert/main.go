// Command chinsert measures the insert stage of closedloop's ClickHouse
// store on its own, for bench/run: it decodes the inputs with closedloop's
// collectors (not timed), writes the flat rows of the messages and
// message_statuses tables as JSONEachRow files (for the clickhouse-client
// reference), then times Store.WriteRows of the same rows into empty
// copies of those tables.
//
//	chinsert -dsn clickhouse://127.0.0.1:9000/bench -rows DIR INPUT...
//
// It prints "rows N" and "seconds S" for the insert stage.
package main

import (
	"bufio"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/closedloop/closedloop/ingest"
	_ "github.com/closedloop/closedloop/ingest/all"
	"github.com/closedloop/closedloop/models"
	"github.com/closedloop/closedloop/pii"
	"github.com/closedloop/closedloop/store"
	"github.com/closedloop/closedloop/store/clickhouse"
)

// tables are the flat tables a Meta webhook file fills.
var tables = []models.Table{models.TableMessages, models.TableMessageStatuses}

func main() {
	dsn := flag.String("dsn", "", "ClickHouse store DSN (the database is created)")
	rowsDir := flag.String("rows", "", "directory for the JSONEachRow files (<table>.jsonl)")
	flag.Parse()
	if *dsn == "" || *rowsDir == "" || flag.NArg() == 0 {
		fmt.Fprintln(os.Stderr, "usage: chinsert -dsn DSN -rows DIR INPUT...")
		os.Exit(2)
	}
	ctx := context.Background()
	p, err := pii.New([]byte("chinsert-bench-key-0123456789abcdef"), false)
	check(err)
	var c ingest.KeepLoader
	_, err = ingest.Run(ctx, ingest.Options{Env: &ingest.Env{Pseudo: p}, Loader: &c}, flag.Args())
	check(err)
	byTable := map[models.Table][][]any{}
	for _, r := range c.Records {
		byTable[r.Table()] = append(byTable[r.Table()], r.Values())
	}
	check(os.MkdirAll(*rowsDir, 0o755))
	for _, t := range tables {
		check(writeJSONEachRow(filepath.Join(*rowsDir, string(t)+".jsonl"), models.Columns[t], byTable[t]))
	}
	st, err := clickhouse.Open(ctx, *dsn, store.Options{})
	check(err)
	defer st.Close()
	n := 0
	start := time.Now()
	for _, t := range tables {
		check(st.WriteRows(ctx, string(t), byTable[t]))
		n += len(byTable[t])
	}
	elapsed := time.Since(start)
	fmt.Printf("rows %d\nseconds %.3f\n", n, elapsed.Seconds())
}

// writeJSONEachRow writes rows as ClickHouse's JSONEachRow, with values
// as the store sends them (times as Int64 milliseconds, booleans as 0/1).
func writeJSONEachRow(path string, cols []string, rows [][]any) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	w := bufio.NewWriterSize(f, 1<<20)
	enc := json.NewEncoder(w)
	obj := make(map[string]any, len(cols))
	for _, r := range rows {
		for i, col := range cols {
			obj[col] = clickhouse.Value(r[i])
		}
		if err := enc.Encode(obj); err != nil {
			f.Close()
			return fmt.Errorf("writing %s: %w", path, err)
		}
	}
	if err := w.Flush(); err != nil {
		f.Close()
		return fmt.Errorf("writing %s: %w", path, err)
	}
	return f.Close()
}

func check(err error) {
	if err != nil {
		fmt.Fprintln(os.Stderr, "chinsert:", err)
		os.Exit(1)
	}
}
