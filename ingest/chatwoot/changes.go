package chatwoot

import (
	"bytes"
	"errors"

	json "github.com/goccy/go-json"
)

// changedAttributes reads the part of Chatwoot's changed_attributes the
// mapping needs: the status transition and the updated_at saved with it.
// Chatwoot sends [{"<attr>": {"previous_value": …, "current_value": …}}];
// some older versions sent [{"<attr>": [previous, current]}]. Both are read.
// Values of other attributes can be anything and are not decoded.
type changedAttributes struct {
	status    *statusChange
	updatedAt Time
	// err is kept rather than returned so the caller can name the attribute.
	err error
}

type statusChange struct{ prev, cur Status }

// UnmarshalJSON accepts a list of one-key objects, one object, or null.
func (c *changedAttributes) UnmarshalJSON(b []byte) error {
	*c = changedAttributes{}
	b = bytes.TrimSpace(b)
	if len(b) == 0 || b[0] == 'n' {
		return nil
	}
	var list []map[string]json.RawMessage
	if b[0] == '{' {
		var one map[string]json.RawMessage
		if err := json.Unmarshal(b, &one); err != nil {
			c.err = err
			return nil
		}
		list = append(list, one)
	} else if err := json.Unmarshal(b, &list); err != nil {
		c.err = errors.New("expected a list of {attribute: {previous_value, current_value}}")
		return nil
	}
	for _, m := range list {
		if v, ok := m["status"]; ok {
			prev, cur, err := changePair(v)
			if err != nil {
				c.err = errors.New("status: " + err.Error())
				return nil
			}
			p, pk := scalarText(prev)
			n, nk := scalarText(cur)
			if pk != "" || nk != "" {
				c.err = errors.New("status: previous_value and current_value must be status names")
				return nil
			}
			c.status = &statusChange{prev: statusOf(p), cur: statusOf(n)}
		}
		if v, ok := m["updated_at"]; ok {
			if _, cur, err := changePair(v); err == nil {
				if s, kind := scalarText(cur); kind == "" && s != "" {
					c.updatedAt = TimeOf(s)
				}
			}
		}
	}
	return nil
}

// changePair returns the previous and current value of one change.
func changePair(v json.RawMessage) (prev, cur json.RawMessage, err error) {
	v = bytes.TrimSpace(v)
	if len(v) > 0 && v[0] == '[' {
		var pair []json.RawMessage
		if err := json.Unmarshal(v, &pair); err != nil || len(pair) != 2 {
			return nil, nil, errors.New("expected [previous, current]")
		}
		return pair[0], pair[1], nil
	}
	var o struct {
		Previous json.RawMessage `json:"previous_value"`
		Current  json.RawMessage `json:"current_value"`
	}
	if err := json.Unmarshal(v, &o); err != nil {
		return nil, nil, errors.New("expected {previous_value, current_value}")
	}
	return o.Previous, o.Current, nil
}
