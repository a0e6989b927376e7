// Package transforms turns raw events into per-case facts and computes the
// KPIs of SPEC §3. Each KPI is one embedded SQL file per dialect that opens
// with its name, version, kind and one-sentence definition; the SQL returns
// one row per unit (case, message, wait, resolution) with flags for the
// denominator and numerator, so every figure has its drill-down for free.
package transforms

import (
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"fmt"
	"io/fs"
	"sort"
	"strconv"
	"strings"
)

//go:embed kpis sql
var sqlFS embed.FS

// Kind says how a KPI's unit rows become a figure.
type Kind string

const (
	KindRate       Kind = "rate"       // numerator / denominator
	KindCount      Kind = "count"      // number of units
	KindPercentile Kind = "percentile" // p50 and p90 of value, nearest rank
)

// Definition is one KPI as its SQL file declares it.
type Definition struct {
	Name         string
	Version      int
	Kind         Kind
	Definition   string
	Breakdown    string // what `detail` breaks failures down by, if anything
	Unit         string // of value, for percentiles
	ImmatureDays int    // figure is immature until the cutoff is this many days past the period
	SQL          string
	SHA256       string
}

// Definitions returns the KPIs for a dialect, sorted by name.
func Definitions(dialect string) ([]Definition, error) {
	dir := "kpis/" + dialect
	entries, err := fs.ReadDir(sqlFS, dir)
	if err != nil {
		return nil, fmt.Errorf("reading KPI definitions for %s: %w", dialect, err)
	}
	var out []Definition
	for _, e := range entries {
		b, err := sqlFS.ReadFile(dir + "/" + e.Name())
		if err != nil {
			return nil, err
		}
		d, err := parseDefinition(string(b))
		if err != nil {
			return nil, fmt.Errorf("KPI file %s/%s: %w", dir, e.Name(), err)
		}
		if d.Name+".sql" != e.Name() {
			return nil, fmt.Errorf("KPI file %s/%s declares name %q", dir, e.Name(), d.Name)
		}
		out = append(out, d)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out, nil
}

// parseDefinition reads the "-- key: value" header of a KPI file.
func parseDefinition(sql string) (Definition, error) {
	d := Definition{SQL: sql}
	sum := sha256.Sum256([]byte(sql))
	d.SHA256 = hex.EncodeToString(sum[:])
	for _, line := range strings.Split(sql, "\n") {
		line = strings.TrimSpace(line)
		if !strings.HasPrefix(line, "--") {
			break
		}
		k, v, ok := strings.Cut(strings.TrimSpace(strings.TrimPrefix(line, "--")), ":")
		if !ok {
			continue
		}
		v = strings.TrimSpace(v)
		switch strings.TrimSpace(k) {
		case "name":
			d.Name = v
		case "version":
			n, err := strconv.Atoi(v)
			if err != nil {
				return d, fmt.Errorf("version %q is not a number", v)
			}
			d.Version = n
		case "kind":
			d.Kind = Kind(v)
		case "definition":
			d.Definition = v
		case "breakdown":
			d.Breakdown = v
		case "unit":
			d.Unit = v
		case "immature_days":
			n, err := strconv.Atoi(v)
			if err != nil {
				return d, fmt.Errorf("immature_days %q is not a number", v)
			}
			d.ImmatureDays = n
		}
	}
	switch {
	case d.Name == "":
		return d, fmt.Errorf("missing '-- name:' header")
	case d.Version == 0:
		return d, fmt.Errorf("missing '-- version:' header")
	case d.Definition == "":
		return d, fmt.Errorf("missing '-- definition:' header")
	case d.Kind != KindRate && d.Kind != KindCount && d.Kind != KindPercentile:
		return d, fmt.Errorf("kind %q is not rate, count or percentile", d.Kind)
	}
	return d, nil
}

// transformSteps returns the fact-building SQL files of a dialect in order.
func transformSteps(dialect string) ([]string, []string, error) {
	dir := "sql/" + dialect
	entries, err := fs.ReadDir(sqlFS, dir)
	if err != nil {
		return nil, nil, fmt.Errorf("reading transform SQL for %s: %w", dialect, err)
	}
	var names, texts []string
	for _, e := range entries {
		b, err := sqlFS.ReadFile(dir + "/" + e.Name())
		if err != nil {
			return nil, nil, err
		}
		names = append(names, e.Name())
		texts = append(texts, string(b))
	}
	return names, texts, nil
}
