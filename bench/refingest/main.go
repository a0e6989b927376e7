// Command refingest is the reference that bench/run measures closedloop's
// ingest against: DuckDB's own read_json + unnest of a Meta webhook JSONL
// file into flat tables, run through duckdb-go so that it uses exactly the
// DuckDB version closedloop embeds (no duckdb CLI is needed).
//
//	refingest -db OUT.duckdb -sql FILE.sql [-threads N] [-memory 384MB] INPUT.jsonl...
//
// The SQL file (bench/reference.sql) may use $FILES, replaced by the list
// of inputs. It prints the rows of every table it created and the time.
package main

import (
	"context"
	"database/sql"
	"flag"
	"fmt"
	"os"
	"runtime"
	"strings"
	"time"

	_ "github.com/duckdb/duckdb-go/v2"
)

func main() {
	db := flag.String("db", "", "DuckDB file to create (removed first)")
	sqlFile := flag.String("sql", "", "reference SQL")
	threads := flag.Int("threads", runtime.NumCPU(), "DuckDB threads")
	memory := flag.String("memory", "384MB", "DuckDB memory_limit (closedloop uses 384MB)")
	flag.Parse()
	if *db == "" || *sqlFile == "" || flag.NArg() == 0 {
		fmt.Fprintln(os.Stderr, "usage: refingest -db OUT.duckdb -sql FILE.sql INPUT...")
		os.Exit(2)
	}
	text, err := os.ReadFile(*sqlFile)
	check(err)
	var files []string
	for _, f := range flag.Args() {
		files = append(files, "'"+strings.ReplaceAll(f, "'", "''")+"'")
	}
	q := strings.ReplaceAll(string(text), "$FILES", "["+strings.Join(files, ", ")+"]")
	os.Remove(*db)
	os.Remove(*db + ".wal")
	conn, err := sql.Open("duckdb", fmt.Sprintf("%s?threads=%d&memory_limit=%s", *db, *threads, *memory))
	check(err)
	defer conn.Close()
	ctx := context.Background()
	start := time.Now()
	for _, stmt := range split(q) {
		if _, err := conn.ExecContext(ctx, stmt); err != nil {
			fmt.Fprintf(os.Stderr, "refingest: %v\nin: %s\n", err, stmt)
			os.Exit(1)
		}
	}
	_, err = conn.ExecContext(ctx, "CHECKPOINT")
	check(err)
	elapsed := time.Since(start)
	rows, err := conn.QueryContext(ctx, `SELECT table_name, estimated_size FROM duckdb_tables() WHERE NOT temporary ORDER BY 1`)
	check(err)
	for rows.Next() {
		var name string
		var n int64
		check(rows.Scan(&name, &n))
		var exact int64
		check(conn.QueryRowContext(ctx, "SELECT count(*) FROM "+name).Scan(&exact))
		fmt.Printf("%s %d\n", name, exact)
	}
	check(rows.Err())
	fmt.Printf("seconds %.3f\n", elapsed.Seconds())
}

// split cuts the script on semicolons that end a line.
func split(s string) []string {
	var out []string
	var cur strings.Builder
	for _, line := range strings.SplitAfter(s, "\n") {
		t := strings.TrimSpace(line)
		if strings.HasPrefix(t, "--") {
			continue
		}
		cur.WriteString(line)
		if strings.HasSuffix(t, ";") {
			if st := strings.TrimSpace(cur.String()); st != ";" {
				out = append(out, st)
			}
			cur.Reset()
		}
	}
	if st := strings.TrimSpace(cur.String()); st != "" {
		out = append(out, st)
	}
	return out
}

func check(err error) {
	if err != nil {
		fmt.Fprintln(os.Stderr, "refingest:", err)
		os.Exit(1)
	}
}
