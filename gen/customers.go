package gen

import (
	"strconv"
)

// customer is one person in the pool. Everything about a customer is derived
// from the seed and the pool index on demand, so the pool costs no memory.
type customer struct {
	idx int32
	// waID is the number as Meta writes it (digits, country code first) and
	// the canonical customer_id; phone is the same number as Chatwoot shows
	// it ("+44 7700 900123"). Collectors join them after normalising to digits.
	waID, phone string
	name        string
	// Fixed traits that shape delivery and consent.
	badNumber  bool // every message fails with 131026
	experiment bool // every template fails with 130472
	noReceipts bool // read receipts switched off: never a "read" status
	consent    consentProfile
	// Other channels (channels.go): no WhatsApp account (the engine uses
	// SMS and e-mail), an SMS number that cannot be reached, an e-mail
	// address that bounces.
	noWhatsApp, smsUnreachable, badEmail bool
}

// consentProfile says how a customer's consent history looks.
type consentProfile uint8

const (
	consentOptIn       consentProfile = iota // opted in before the first template
	consentOptedOut                          // opted in, then out, and still gets templates
	consentNone                              // no consent record at all
	consentLateKeyword                       // opted in by keyword shortly before the first template
)

var firstNames = []string{"Oliver", "Amelia", "James", "Sofia", "Mohammed", "Emma", "Lucas", "Chloe", "Noah", "Maria",
	"Liam", "Aisha", "Daniel", "Hannah", "Mateo", "Grace", "Arjun", "Wei", "Fatima", "Ethan",
	"Isabella", "Samuel", "Priya", "Carlos", "Zoe", "Tomasz", "Nina", "Kwame", "Laura", "Hiroshi",
	"Ana", "Ryan", "Leila", "Marco", "Ava", "Diego", "Sara", "Ibrahim", "Julia", "Ben"}

var lastNames = []string{"Smith", "Garcia", "Brown", "Tan", "Khan", "Martinez", "Wilson", "Lee", "Taylor", "Fernandez",
	"Johnson", "Ng", "Davies", "Lopez", "Evans", "Wong", "Thomas", "Sanchez", "Roberts", "Lim",
	"Walker", "Perez", "Wright", "Chen", "Hall", "Gomez", "Green", "Ali", "King", "Ruiz"}

// US area codes used for American customers.
var usAreas = []string{"212", "315", "347", "412", "415", "503", "512", "617", "646", "702", "718", "813", "917", "929"}

// countrySlots maps idx%20 to a country: 8 UK, 4 Spain, 5 US, 3 Singapore.
var countrySlots = [20]byte{'G', 'G', 'G', 'G', 'G', 'G', 'G', 'G', 'E', 'E', 'E', 'E', 'U', 'U', 'U', 'U', 'U', 'S', 'S', 'S'}

// slotRank gives, per slot, the slot's position among the slots of its
// country and the number of slots of that country, so that (idx/20, slot)
// maps to a dense rank per country.
func slotRank(slot int) (pos, count int) {
	c := countrySlots[slot]
	for i := 0; i < 20; i++ {
		if countrySlots[i] == c {
			if i < slot {
				pos++
			}
			count++
		}
	}
	return pos, count
}

// permute is a bijection on [0, m) for m a power of ten: it scrambles
// consecutive ranks into unrelated-looking numbers without collisions.
func permute(r, m uint64) uint64 { return (r*48271 + 1234567) % m }

func pad(n uint64, width int) string {
	s := strconv.FormatUint(n, 10)
	for len(s) < width {
		s = "0" + s
	}
	return s
}

// newCustomer derives customer idx of the pool.
func newCustomer(seed int64, idx int32) customer {
	h := splitmix64(uint64(seed)*0x9e3779b97f4a7c15 ^ uint64(idx))
	slot := int(idx % 20)
	pos, count := slotRank(slot)
	rank := uint64(idx/20)*uint64(count) + uint64(pos)
	c := customer{idx: idx}
	switch countrySlots[slot] {
	case 'G': // UK mobile: 44 7xxx xxxxxx
		d := pad(permute(rank, 1e8), 8)
		c.waID = "4477" + d
		c.phone = "+44 77" + d[:2] + " " + d[2:]
	case 'E': // Spanish mobile: 34 6xx xxx xxx
		d := pad(permute(rank, 1e8), 8)
		c.waID = "346" + d
		c.phone = "+34 6" + d[:2] + " " + d[2:5] + " " + d[5:]
	case 'U': // US: 1 AAA XXX XXXX
		area := usAreas[rank%uint64(len(usAreas))]
		d := pad(permute(rank/uint64(len(usAreas)), 1e7), 7)
		c.waID = "1" + area + d
		c.phone = "+1 " + area + "-" + d[:3] + "-" + d[3:]
	default: // Singapore mobile: 65 8xxx xxxx / 9xxx xxxx
		lead := "8"
		if rank%2 == 1 {
			lead = "9"
		}
		d := pad(permute(rank/2, 1e7), 7)
		c.waID = "65" + lead + d
		c.phone = "+65 " + lead + d[:3] + " " + d[3:]
	}
	c.name = firstNames[h%uint64(len(firstNames))] + " " + lastNames[(h>>8)%uint64(len(lastNames))]
	c.badNumber = (h>>16)%1000 < 25
	c.experiment = (h>>26)%1000 < 7
	c.noReceipts = (h>>36)%100 < 6
	// Traits added later come from a second hash, so that the first one
	// keeps giving every customer the same traits as before.
	h2 := splitmix64(h)
	c.noWhatsApp = h2%1000 < 90
	c.smsUnreachable = (h2>>12)%1000 < 60
	c.badEmail = (h2>>24)%1000 < 40
	switch p := (h >> 44) % 1000; {
	case p < 10:
		c.consent = consentOptedOut
	case p < 15:
		c.consent = consentNone
	case p < 45:
		c.consent = consentLateKeyword
	default:
		c.consent = consentOptIn
	}
	return c
}

// email is the customer's e-mail address (fictional domains).
func (c customer) email() string {
	b := make([]byte, 0, len(c.name)+24)
	for i := 0; i < len(c.name); i++ {
		switch ch := c.name[i]; {
		case ch == ' ':
			b = append(b, '.')
		case ch >= 'A' && ch <= 'Z':
			b = append(b, ch+'a'-'A')
		default:
			b = append(b, ch)
		}
	}
	domains := [3]string{"example.com", "example.net", "example.org"}
	return string(b) + "." + strconv.Itoa(int(c.idx)) + "@" + domains[c.idx%3]
}

// contactID is the customer's Chatwoot contact id.
func (c customer) contactID() int { return 5000 + int(c.idx) }

// contactInboxID is the id of the customer's contact_inbox in a queue's inbox.
func (c customer) contactInboxID(q *queue) int { return 100000 + int(c.idx)*4 + q.index }

// profileName is what the customer's WhatsApp profile shows (often just a first name).
func (c customer) profileName() string {
	if c.idx%3 == 0 {
		for i := 0; i < len(c.name); i++ {
			if c.name[i] == ' ' {
				return c.name[:i]
			}
		}
	}
	return c.name
}
