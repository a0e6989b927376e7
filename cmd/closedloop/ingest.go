package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/closedloop/closedloop/audit"
	"github.com/closedloop/closedloop/config"
	"github.com/closedloop/closedloop/ingest"
	"github.com/closedloop/closedloop/pii"
	"github.com/closedloop/closedloop/store"
)

func newIngestCmd(g *globals) *cobra.Command {
	var db, source string
	cmd := &cobra.Command{
		Use:   "ingest --db FILE|DSN [--source NAME] PATH...",
		Short: "Read source files (JSON, JSON Lines, CSV, .gz; directories recursively) into the store",
		Long: "Read source files into the store. Each malformed document is rejected with its file:line\n" +
			"and a reason, the rest is kept; re-ingesting the same input adds nothing.\n\n" +
			"Sources: auto (default: recognise each document), " + strings.Join(ingest.Names(), ", ") + ".\n" +
			"Exit code 3 when some input was rejected.",
		Args: cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if source != "auto" {
				if _, ok := ingest.Lookup(source); !ok {
					return usagef("unknown --source %q (known: auto, %s)", source, strings.Join(ingest.Names(), ", "))
				}
			}
			cfg, err := g.loadConfig()
			if err != nil {
				return err
			}
			st, err := openStoreWith(cmd.Context(), db, store.Options{Streaming: true})
			if err != nil {
				return err
			}
			defer st.Close()
			sum, err := runIngest(cmd.Context(), cfg, st, db, source, args)
			if err != nil {
				return err
			}
			if err := recordIngest(cmd.Context(), st, source, args, sum); err != nil {
				return err
			}
			fmt.Fprintln(cmd.OutOrStdout(), sum.String())
			if sum.Rejected > 0 {
				return &exitError{code: exitRejected}
			}
			return nil
		},
	}
	cmd.Flags().StringVar(&db, "db", "", "store: DuckDB file path or clickhouse://host:port/database")
	cmd.Flags().StringVar(&source, "source", "auto", "collector name, or auto to recognise each document")
	return cmd
}

// pseudonymiser builds the HMAC pseudonymiser from config, the environment,
// or a key file beside the DuckDB store (generated with a warning).
func pseudonymiser(cfg *config.Config, dsn string, warn func(string)) (*pii.Pseudonymiser, error) {
	keyFile := cfg.PII.KeyFile
	if keyFile == "" {
		if strings.Contains(dsn, "://") {
			keyFile = "closedloop-pii.key"
		} else {
			keyFile = dsn + ".key"
		}
	}
	key, created, err := pii.LoadOrCreateKey(cfg.PII.KeyEnv, keyFile)
	if err != nil {
		return nil, err
	}
	if created {
		warn(fmt.Sprintf("warning: no pseudonymisation key in $%s; generated one in %s — keep it with the store, or pseudonyms will not join across runs", cfg.PII.KeyEnv, keyFile))
	}
	return pii.New(key, cfg.PII.KeepRaw)
}

func runIngest(ctx context.Context, cfg *config.Config, st store.Store, dsn, source string, paths []string) (ingest.Summary, error) {
	if source != "auto" {
		if _, ok := ingest.Lookup(source); !ok {
			return ingest.Summary{}, usagef("unknown --source %q (known: auto, %s)", source, strings.Join(ingest.Names(), ", "))
		}
	}
	ps, err := pseudonymiser(cfg, dsn, func(s string) { fmt.Fprintln(os.Stderr, s) })
	if err != nil {
		return ingest.Summary{}, err
	}
	files, err := ingest.ListFiles(paths)
	if err != nil {
		return ingest.Summary{}, err
	}
	bar := newProgress(totalSize(files), "ingesting")
	defer bar.Finish()
	var doneBytes int64
	sizes := map[string]int64{}
	for _, f := range files {
		if fi, err := os.Stat(f); err == nil {
			sizes[f] = fi.Size()
		}
	}
	prev := ""
	return ingest.Run(ctx, ingest.Options{
		Source: source,
		Env:    &ingest.Env{Pseudo: ps, Now: time.Now()},
		Loader: st,
		Progress: func(file string, i, n int) {
			if prev != "" {
				doneBytes += sizes[prev]
				bar.Set(doneBytes, filepath.Base(file))
			}
			prev = file
		},
	}, paths)
}

func totalSize(files []string) int64 {
	var n int64
	for _, f := range files {
		if fi, err := os.Stat(f); err == nil {
			n += fi.Size()
		}
	}
	return n
}

// recordIngest writes the run and its counts to the audit log.
func recordIngest(ctx context.Context, st store.Store, source string, paths []string, sum ingest.Summary) error {
	ingested := map[string]int{}
	for t, n := range sum.Ingested {
		ingested[string(t)] = n
	}
	details := map[string]any{"source": source, "paths": paths, "files": sum.Files, "documents": sum.Documents,
		"ingested": ingested, "duplicates": sum.Duplicates, "rejected": sum.Rejected, "skipped": sum.Skipped}
	if err := audit.Append(ctx, st, "closedloop", "system", "ingest", "run", "", details); err != nil {
		return fmt.Errorf("recording the ingest run in the audit log: %w", err)
	}
	return nil
}
