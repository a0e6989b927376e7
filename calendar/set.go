package calendar

import (
	"errors"
	"fmt"
	"sort"

	"github.com/closedloop/closedloop/config"
)

// Set resolves a queue's calendar: queues listed in the configuration with
// a calendar get it; every other queue is open 24×7 (SPEC §4).
type Set struct {
	byQueue map[string]*Calendar
	always  *Calendar
}

// NewSet builds the calendars the configured queues use; queues sharing a
// calendar share one Calendar. A nil configuration gives a Set in which
// every queue is always open.
func NewSet(cfg *config.Config) (*Set, error) {
	s := &Set{byQueue: map[string]*Calendar{}, always: AlwaysOpen()}
	if cfg == nil {
		return s, nil
	}
	built := map[string]*Calendar{}
	tables := map[string]*zoneTable{}
	var errs []error
	queues := make([]string, 0, len(cfg.Queues))
	for q := range cfg.Queues {
		queues = append(queues, q)
	}
	sort.Strings(queues) // stable error order
	for _, q := range queues {
		name := cfg.Queues[q].Calendar
		if name == "" {
			continue
		}
		cal, ok := built[name]
		if !ok {
			versions, defined := cfg.Calendars[name]
			if !defined {
				errs = append(errs, fmt.Errorf("queue %s: calendar %q is not defined under calendars", q, name))
				continue
			}
			var err error
			if cal, err = build("calendars."+name, versions, tables); err != nil {
				errs = append(errs, fmt.Errorf("queue %s: %w", q, err))
				continue
			}
			built[name] = cal
		}
		s.byQueue[q] = cal
	}
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	return s, nil
}

// For returns the queue's calendar, or the 24×7 calendar when the queue
// has none. It never returns nil.
func (s *Set) For(queue string) *Calendar {
	if s == nil {
		return AlwaysOpen()
	}
	if c, ok := s.byQueue[queue]; ok {
		return c
	}
	return s.always
}
