package metagraph

import (
	"time"

	"github.com/closedloop/closedloop/models"
)

// The Meta collector's own tables (DuckDB migration 0003_collectors.sql).
// They are not canonical event tables: the store replaces their rows by
// key (template_changes by event_id, template_metrics_daily by template_id
// and day).
const (
	TableTemplateChanges models.Table = "template_changes"
	TableTemplateMetrics models.Table = "template_metrics_daily"
)

// TemplateChange is one observed change of a template's status, category
// or quality score.
type TemplateChange struct {
	models.Meta
	TemplateID   string
	TemplateName string
	Language     string
	Attribute    string // status | category | quality_score
	Previous     string // "" the first time the template is seen
	Value        string
	TS           time.Time // when the collector saw it
}

// Table implements models.Record.
func (r *TemplateChange) Table() models.Table { return TableTemplateChanges }

// Base implements models.Record.
func (r *TemplateChange) Base() *models.Meta { return &r.Meta }

// Values are in the column order of template_changes.
func (r *TemplateChange) Values() []any {
	return []any{r.EventID, r.TemplateID, null(r.TemplateName), null(r.Language), r.Attribute, null(r.Previous), r.Value,
		models.UTCms(r.TS), r.Source, r.SourceRef, models.UTCms(r.IngestedAt)}
}

// TemplateMetric is one template's figures for one UTC day.
type TemplateMetric struct {
	models.Meta
	TemplateID   string
	TemplateName string
	Day          time.Time // UTC midnight
	Sent         *int64
	Delivered    *int64
	Read         *int64
	Clicked      *int64
	Cost         *float64
	Currency     string
	CollectedAt  time.Time
}

// Table implements models.Record.
func (r *TemplateMetric) Table() models.Table { return TableTemplateMetrics }

// Base implements models.Record.
func (r *TemplateMetric) Base() *models.Meta { return &r.Meta }

// Values are in the column order of template_metrics_daily.
func (r *TemplateMetric) Values() []any {
	return []any{r.TemplateID, null(r.TemplateName), r.Day, i64(r.Sent), i64(r.Delivered), i64(r.Read), i64(r.Clicked),
		f64(r.Cost), null(r.Currency), models.UTCms(r.CollectedAt)}
}

func null(s string) any {
	if s == "" {
		return nil
	}
	return s
}

func i64(p *int64) any {
	if p == nil {
		return nil
	}
	return *p
}

func f64(p *float64) any {
	if p == nil {
		return nil
	}
	return *p
}
