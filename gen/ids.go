package gen

import (
	"encoding/base64"
	"fmt"
	"math/rand/v2"
	"strconv"
	"time"
)

// wamid builds a WhatsApp message id shaped like Meta's: "wamid." and the
// base64 of a small binary record holding the customer's number and a
// 20-character hex tag. The tag embeds the case's planning index and the
// message's sequence in the case, scrambled by a bijection, so ids never
// collide and still look random.
func wamid(seed int64, caseIdx int32, seq int, phone string, r *rand.Rand) string {
	x := uint64(caseIdx)<<20 | uint64(seq&0xfffff)
	x = bijectMix(x ^ uint64(seed)*0xd6e8feb86659fd93)
	tag := fmt.Sprintf("%02X%016X%02X", r.IntN(256), x, r.IntN(256))
	raw := make([]byte, 0, 8+len(phone)+len(tag))
	raw = append(raw, 0x1c, 0x18, byte(len(phone)))
	raw = append(raw, phone...)
	raw = append(raw, 0x15, 0x02, 0x00, 0x12, 0x18, byte(len(tag)))
	raw = append(raw, tag...)
	raw = append(raw, 0x00)
	return "wamid." + base64.StdEncoding.EncodeToString(raw)
}

// bijectMix is an invertible 64-bit mixer (xorshift-multiply rounds).
func bijectMix(x uint64) uint64 {
	x ^= x >> 31
	x *= 0x7fb5d329728ea185
	x ^= x >> 27
	x *= 0x81dadef4bc2dd44d
	x ^= x >> 33
	return x
}

// hexID returns n random lowercase hex characters (Meta conversation ids,
// media ids and the like).
func hexID(r *rand.Rand, n int) string {
	const digits = "0123456789abcdef"
	b := make([]byte, n)
	for i := range b {
		b[i] = digits[r.IntN(16)]
	}
	return string(b)
}

// digitsID returns n random decimal digits, the first not zero.
func digitsID(r *rand.Rand, n int) string {
	b := make([]byte, n)
	for i := range b {
		b[i] = byte('0' + r.IntN(10))
	}
	if b[0] == '0' {
		b[0] = '1'
	}
	return string(b)
}

// Timestamp formats used by the sources.

// rfc3339ms formats a canonical timestamp: UTC, milliseconds, Z.
func rfc3339ms(ms int64) string {
	return time.UnixMilli(ms).UTC().Format("2006-01-02T15:04:05.000Z")
}

// unixSecString formats Meta's timestamps: Unix seconds as a decimal string.
func unixSecString(ms int64) string { return strconv.FormatInt(ms/1000, 10) }

// Durations in milliseconds, the simulator's time unit.
const (
	second int64 = 1000
	minute       = 60 * second
	hour         = 60 * minute
	day          = 24 * hour
	week         = 7 * day
)
