package config

import (
	"math"
	"regexp"
	"strings"
)

// DefaultMarket is the pricing key used for countries without their own rate.
const DefaultMarket = "default"

// Pricing gives the unit costs behind "cost per completed case". Rates are
// in Currency per billable message; unset rates are 0, so costs are
// understated rather than invented.
type Pricing struct {
	// WhatsApp maps Meta's pricing category (marketing, utility,
	// authentication, service, ...) to rates per recipient country, keyed
	// by ISO 3166 alpha-2 code (GB, ES) or "default".
	WhatsApp map[string]map[string]float64 `yaml:"whatsapp"`
	// SMSUnit is the cost of one SMS segment.
	SMSUnit float64 `yaml:"sms_unit"`
	// EmailUnit is the cost of one email.
	EmailUnit float64 `yaml:"email_unit"`
	// Currency is the ISO 4217 code the rates are in (default EUR).
	Currency string `yaml:"currency"`
	// Countries maps a business number (phone number id or sender) to the
	// ISO 3166 country whose WhatsApp rates its messages are billed at.
	// Meta bills by the recipient's country, but customer numbers are
	// pseudonymised at ingest, so closedloop prices a message at the
	// country of the number it went through; numbers not listed use the
	// category's default rate.
	Countries map[string]string `yaml:"countries"`
}

// CountryOf returns the billing country of a business number ("" when
// not configured: the default rate applies).
func (pr Pricing) CountryOf(businessNumber string) string {
	return strings.ToUpper(pr.Countries[businessNumber])
}

// DefaultCurrency is the currency of rates when none is configured.
const DefaultCurrency = "EUR"

func (pr *Pricing) applyDefaults() {
	if pr.Currency == "" {
		pr.Currency = DefaultCurrency
	}
}

// WhatsAppRate returns the rate of a billable message of a pricing category
// to a country, falling back to the category's default rate; ok is false
// when neither is configured.
func (pr Pricing) WhatsAppRate(category, country string) (rate float64, ok bool) {
	rates := pr.WhatsApp[strings.ToLower(category)]
	if r, ok := rates[strings.ToUpper(country)]; ok {
		return r, true
	}
	r, ok := rates[DefaultMarket]
	return r, ok
}

var (
	countryCode  = regexp.MustCompile(`^[A-Z]{2}$`)
	currencyCode = regexp.MustCompile(`^[A-Z]{3}$`)
	categoryName = regexp.MustCompile(`^[a-z][a-z0-9_]*$`)
)

func (pr Pricing) validate(p *problems, path string) {
	for _, cat := range sortedKeys(pr.WhatsApp) {
		cp := path + ".whatsapp." + cat
		if !categoryName.MatchString(cat) {
			p.add(cp, "pricing category must be lower case like utility or marketing")
		}
		for _, market := range sortedKeys(pr.WhatsApp[cat]) {
			mp := cp + "." + market
			if market != DefaultMarket && !countryCode.MatchString(market) {
				p.add(mp, "use an ISO 3166 country code like GB, or default")
			}
			validateRate(p, mp, pr.WhatsApp[cat][market])
		}
	}
	for _, n := range sortedKeys(pr.Countries) {
		if c := pr.Countries[n]; !countryCode.MatchString(strings.ToUpper(c)) {
			p.add(path+".countries."+n, "%q is not an ISO 3166 country code like GB", c)
		}
	}
	validateRate(p, path+".sms_unit", pr.SMSUnit)
	validateRate(p, path+".email_unit", pr.EmailUnit)
	if pr.Currency != "" && !currencyCode.MatchString(pr.Currency) {
		p.add(path+".currency", "%q is not an ISO 4217 code like EUR", pr.Currency)
	}
}

func validateRate(p *problems, path string, r float64) {
	if r < 0 || math.IsNaN(r) || math.IsInf(r, 0) {
		p.add(path, "must be a cost of 0 or more")
	}
}
