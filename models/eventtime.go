package models

import "time"

// EventTime returns the time a record's event happened (rejects have none).
func EventTime(r Record) (time.Time, bool) {
	switch v := r.(type) {
	case *Message:
		return v.TS, true
	case *MessageStatus:
		return v.TS, true
	case *CaseEvent:
		return v.TS, true
	case *Writeback:
		return v.TS, true
	case *ConsentEvent:
		return v.TS, true
	case *TemplateEvent:
		return v.TS, true
	case *AuditEvent:
		return v.TS, true
	case *Action:
		return v.TS, true
	case *Reject:
		return time.Time{}, false
	}
	// A record type added later: find its ts column.
	for i, c := range Columns[r.Table()] {
		if c == "ts" {
			if t, ok := r.Values()[i].(time.Time); ok {
				return t, true
			}
		}
	}
	return time.Time{}, false
}
