package pii

import "testing"

// benchIDs are the same kinds of phone numbers written the ways sources send them.
var benchIDs = []string{
	"+44 7700 900123",
	"447700900124",
	"whatsapp:+447700900125",
	"+1 (415) 555-0101",
	"14155550102",
	"+31 6 1234 5678",
	"0031.6.1234.5679",
	" +49-151-2345-6789 ",
}

func benchPseudonymiser(b *testing.B) *Pseudonymiser {
	p, err := New([]byte("bench-key-0123456789abcdef"), false)
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	return p
}

// BenchmarkCustomer pseudonymises one batch of 8 varied phone numbers (Normalise + HMAC-SHA-256), done for every record ingested.
func BenchmarkCustomer(b *testing.B) {
	p := benchPseudonymiser(b)
	size := 0
	for _, id := range benchIDs {
		size += len(id)
	}
	b.SetBytes(int64(size))
	for b.Loop() {
		for _, id := range benchIDs {
			if c := p.Customer(id); !IsPseudonym(c) {
				b.Fatalf("Customer(%q) = %q, not a pseudonym", id, c)
			}
		}
	}
}

// BenchmarkCustomerSamePerson checks formats of one number share a pseudonym and measures repeat look-ups of it.
func BenchmarkCustomerSamePerson(b *testing.B) {
	p := benchPseudonymiser(b)
	forms := []string{"+44 7700 900123", "447700900123", "whatsapp:+447700900123", "+44 (7700) 900-123"}
	want := p.Customer(forms[0])
	for b.Loop() {
		for _, id := range forms {
			if c := p.Customer(id); c != want {
				b.Fatalf("Customer(%q) = %q, want %q", id, c, want)
			}
		}
	}
}
