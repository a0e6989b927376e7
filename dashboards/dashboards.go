// Package dashboards holds the templates and static assets of the
// dashboard served by `closedloop serve` (package serve renders them).
// Everything is embedded in the binary; the chart library is the echarts
// build the reports package embeds, so no page loads anything from
// another host.
package dashboards

import "embed"

// Templates are the html/template pages: layout.tmpl defines the frame,
// each page defines "content".
//
//go:embed templates/*.tmpl
var Templates embed.FS

// Assets are the stylesheet and scripts served under /assets/.
//
//go:embed assets/*
var Assets embed.FS
