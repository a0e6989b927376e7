package ingest

import (
	"net/url"
	"regexp"
	"strings"

	"github.com/closedloop/closedloop/pii"
)

// The copy of a rejected input kept in the rejects table, and the reason,
// must not carry raw customer identifiers any more than the event tables
// do. Values of the fields that hold them are replaced by their pseudonyms
// (so a reject can still be matched with the customer's events), as are
// phone numbers written in international form anywhere else.
var (
	// customerKeys are the JSON fields (and form parameters) that hold a
	// customer's phone number or id in the sources closedloop reads: Meta
	// (from, wa_id, recipient_id, user_id …), Chatwoot (phone_number,
	// identifier, contact_inbox.source_id), canonical (customer_id) and
	// common webhook forms (From, To), SendGrid (email). Business numbers
	// (display_phone_number, phone_number_id) are the company's and kept.
	customerKeys = `from|to|wa_id|recipient_id|user_id|parent_user_id|phone_number|phone|msisdn|customer_id|identifier|source_id|contact_id|waid|email`

	// "key": "value" or "key": 12345, also when the value is cut short.
	jsonKeyRE = regexp.MustCompile(`(?i)"(` + customerKeys + `)"(\s*:\s*)("(?:[^"\\]|\\.)*(?:"|$)|-?[0-9][0-9.eE+\-]*)`)
	// key=value in form bodies.
	formKeyRE = regexp.MustCompile(`(?i)(^|[&?])(` + customerKeys + `)=([^&]*)`)
	// +44 7700 900123, +1 (555) 010-9999: a phone number by its form.
	intlPhoneRE = regexp.MustCompile(`\+[0-9][0-9 ().\-]{5,}[0-9]`)
)

// redact pseudonymises customer identifiers in s (see above). Without a
// pseudonymiser the values are replaced by "[redacted]".
func redact(s string, p *pii.Pseudonymiser) string {
	pseudo := func(v string) string {
		if p == nil {
			return "[redacted]"
		}
		if c := p.Customer(v); c != "" {
			return c
		}
		return v
	}
	if strings.ContainsRune(s, '"') {
		s = jsonKeyRE.ReplaceAllStringFunc(s, func(m string) string {
			g := jsonKeyRE.FindStringSubmatch(m)
			v := g[3]
			closed := strings.HasPrefix(v, `"`) && strings.HasSuffix(v, `"`) && len(v) >= 2
			v = strings.TrimPrefix(v, `"`)
			if closed {
				v = strings.TrimSuffix(v, `"`)
			}
			if strings.TrimSpace(v) == "" || pii.IsPseudonym(v) {
				return m
			}
			out := `"` + g[1] + `"` + g[2] + `"` + pseudo(v)
			if closed || !strings.HasPrefix(g[3], `"`) {
				out += `"`
			}
			return out
		})
	}
	if strings.ContainsRune(s, '=') {
		s = formKeyRE.ReplaceAllStringFunc(s, func(m string) string {
			g := formKeyRE.FindStringSubmatch(m)
			v, err := url.QueryUnescape(g[3])
			if err != nil {
				v = g[3]
			}
			if strings.TrimSpace(v) == "" {
				return m
			}
			return g[1] + g[2] + "=" + url.QueryEscape(pseudo(v))
		})
	}
	if strings.ContainsRune(s, '+') {
		s = intlPhoneRE.ReplaceAllStringFunc(s, pseudo)
	}
	return s
}
