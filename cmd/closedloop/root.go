package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strings"

	"github.com/spf13/cobra"

	"github.com/closedloop/closedloop/config"
	_ "github.com/closedloop/closedloop/ingest/all"
	"github.com/closedloop/closedloop/store"
	_ "github.com/closedloop/closedloop/store/duckdb"
)

// Exit codes (SPEC §6).
const (
	exitOK       = 0
	exitFailure  = 1
	exitUsage    = 2
	exitRejected = 3
)

// exitError carries a specific exit code up to main.
type exitError struct {
	code int
	msg  string
}

func (e *exitError) Error() string { return e.msg }

// usageError marks mistakes in how the command was called (exit 2).
type usageError struct{ err error }

func (e usageError) Error() string { return e.err.Error() }
func (e usageError) Unwrap() error { return e.err }

func usagef(format string, a ...any) error { return usageError{fmt.Errorf(format, a...)} }

func isUsage(err error) bool {
	var u usageError
	if errors.As(err, &u) {
		return true
	}
	msg := err.Error()
	return strings.HasPrefix(msg, "unknown command") || strings.HasPrefix(msg, "unknown flag") ||
		strings.HasPrefix(msg, "unknown shorthand flag") || strings.Contains(msg, "required flag") ||
		strings.HasPrefix(msg, "invalid argument") || strings.Contains(msg, "flag needs an argument") ||
		strings.Contains(msg, "accepts ") || strings.Contains(msg, "requires at least")
}

// globals are the flags every command shares.
type globals struct {
	configPath string
}

func newRootCmd() *cobra.Command {
	g := &globals{}
	root := &cobra.Command{
		Use:           "closedloop",
		Short:         "Governed, measurable WhatsApp customer-service operations",
		Long:          "closedloop ingests WhatsApp, console and workflow events into a columnar store,\ncomputes service KPIs, and writes governance packs and signed audit evidence.",
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	root.PersistentFlags().StringVar(&g.configPath, "config", "", "configuration file (default: closedloop.yaml in the working directory, if present)")
	addProfileFlags(root) // hidden --cpuprofile/--memprofile (profile.go)
	root.AddCommand(
		newIngestCmd(g),
		newGenCmd(g),
		newKPICmd(g),
		newDemoCmd(g),
		newSchemaCmd(g),
		newTransformCmd(g),
	)
	for _, add := range extraCommands {
		root.AddCommand(add(g))
	}
	return root
}

// extraCommands lets command files register themselves without editing
// the root (each file appends in its init).
var extraCommands []func(*globals) *cobra.Command

// loadConfig reads --config, or closedloop.yaml when present, or defaults.
func (g *globals) loadConfig() (*config.Config, error) {
	path := g.configPath
	if path == "" {
		if _, err := os.Stat("closedloop.yaml"); err == nil {
			path = "closedloop.yaml"
		}
	}
	if path == "" {
		return config.Default(), nil
	}
	return config.Load(path)
}

// openStore opens --db for writing or reading.
func openStore(ctx context.Context, dsn string, readOnly bool) (store.Store, error) {
	return openStoreWith(ctx, dsn, store.Options{ReadOnly: readOnly})
}

// openStoreWith opens the --db store with explicit options.
func openStoreWith(ctx context.Context, dsn string, opt store.Options) (store.Store, error) {
	if dsn == "" {
		return nil, usagef("--db is required (a DuckDB file path or clickhouse://host:port/database)")
	}
	return store.Open(ctx, dsn, opt)
}
