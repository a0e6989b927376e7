package main

import (
	"context"
	"fmt"
	"strconv"
	"time"

	"github.com/closedloop/closedloop/audit"
	"github.com/closedloop/closedloop/config"
	"github.com/closedloop/closedloop/store"
	"github.com/closedloop/closedloop/transforms"
)

// kpiFigures gives evidence bundles the KPI figures of their period, each
// with the exact SQL text and definition version that produced it.
type kpiFigures struct {
	g   *globals
	cfg *config.Config
}

// Figures implements audit.FigureSource. The cutoff is the newest event,
// the same default as `closedloop kpi`, so the bundle and the CLI agree.
func (k kpiFigures) Figures(ctx context.Context, st store.Store, from, to time.Time) ([]audit.Figure, error) {
	cutoff, err := transforms.NewestEvent(ctx, st.DB())
	if err != nil {
		return nil, err
	}
	cal, err := calendarsFor(k.cfg)
	if err != nil {
		return nil, err
	}
	if _, err := transforms.Ensure(ctx, st, cal, cutoff); err != nil {
		return nil, err
	}
	figs, err := transforms.Compute(ctx, st, transforms.Request{From: from, To: to, Cutoff: cutoff})
	if err != nil {
		return nil, fmt.Errorf("computing figures for the bundle: %w", err)
	}
	defs, err := transforms.Definitions(st.Dialect())
	if err != nil {
		return nil, err
	}
	byName := map[string]transforms.Definition{}
	for _, d := range defs {
		byName[d.Name] = d
		byName[d.Name+"_p50"] = d
		byName[d.Name+"_p90"] = d
	}
	out := make([]audit.Figure, 0, len(figs))
	for _, f := range figs {
		d := byName[f.KPI]
		af := audit.Figure{KPI: f.KPI, Version: strconv.Itoa(f.Version), Group: f.Group,
			Numerator: float64(f.Numerator), Value: f.Value, Unit: f.Unit, Definition: f.Definition,
			SQL: d.SQL, SQLSHA256: d.SHA256}
		if f.Denominator != nil {
			v := float64(*f.Denominator)
			af.Denominator = &v
		}
		out = append(out, af)
	}
	return out, nil
}
