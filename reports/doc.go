// Package reports writes the weekly governance pack (SPEC §5) and the
// pilot comparison (SPEC §3, "Pilot comparison").
//
// The pack is one self-contained HTML file: the stylesheet, the chart
// library (echarts, taken from npm at build time by scripts/assets and
// embedded from assets/echarts.min.js) and every chart's options are
// inlined, so it opens offline from a USB stick. Beside it go figures.csv
// (every figure in the pack), drilldown/<kpi>.csv (the case ids behind
// each figure of the reported week) and, when Chromium is installed,
// pack.pdf.
//
// The pack is reproducible: the same store, week, time zone and as-of give
// a byte-identical pack.html. The only time printed is the stated as-of;
// every list is sorted; chart ids are derived from the chart's role, never
// random.
package reports
