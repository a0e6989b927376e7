// Package pii pseudonymises customer identifiers so that raw phone numbers
// never reach the store, while the same person still joins across sources.
package pii

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"hash"
	"os"
	"strings"
	"sync"
)

// KeyEnv is the default environment variable holding the HMAC key.
const KeyEnv = "CLOSEDLOOP_PII_KEY"

// Pseudonymiser maps raw customer identifiers to keyed HMAC-SHA-256 pseudonyms.
// It is safe for concurrent use.
type Pseudonymiser struct {
	key     []byte
	keepRaw bool
	pool    sync.Pool
}

// New returns a Pseudonymiser with the given key. keepRaw makes Customer
// return the normalised raw identifier instead (only when configured explicitly).
func New(key []byte, keepRaw bool) (*Pseudonymiser, error) {
	if len(key) < 16 {
		return nil, errors.New("pseudonymisation key must be at least 16 bytes")
	}
	p := &Pseudonymiser{key: append([]byte(nil), key...), keepRaw: keepRaw}
	p.pool.New = func() any { return hmac.New(sha256.New, p.key) }
	return p, nil
}

// Normalise reduces a phone-like identifier to its digits ("+44 7700-900123"
// and "447700900123" are the same person). Identifiers that are not
// phone-like (they contain letters) are returned trimmed, unchanged.
func Normalise(id string) string {
	id = strings.TrimSpace(id)
	id = strings.TrimPrefix(id, "whatsapp:")
	var b strings.Builder
	for _, r := range id {
		switch {
		case r >= '0' && r <= '9':
			b.WriteRune(r)
		case r == '+' || r == ' ' || r == '-' || r == '(' || r == ')' || r == '.':
		default:
			return id
		}
	}
	return b.String()
}

// Customer returns the pseudonym of a raw identifier: "c_" and the first 16
// bytes of HMAC-SHA-256(key, Normalise(id)) in hex. Empty stays empty.
// Identifiers that already are pseudonyms ("c_" + 32 hex) pass through, so
// canonical exports of pseudonymised data can be re-ingested.
func (p *Pseudonymiser) Customer(id string) string {
	n := Normalise(id)
	if n == "" {
		return ""
	}
	if IsPseudonym(n) {
		return n
	}
	if p.keepRaw {
		return n
	}
	h := p.pool.Get().(hash.Hash)
	h.Reset()
	h.Write([]byte(n))
	sum := h.Sum(nil)
	p.pool.Put(h)
	return "c_" + hex.EncodeToString(sum[:16])
}

// IsPseudonym reports whether s has the shape of a pseudonym made by Customer.
func IsPseudonym(s string) bool {
	if len(s) != 34 || !strings.HasPrefix(s, "c_") {
		return false
	}
	_, err := hex.DecodeString(s[2:])
	return err == nil
}

// LoadOrCreateKey returns the key from the environment variable envName when
// set; otherwise reads keyFile, creating it with a random key when missing.
// created reports that a new key was generated (callers should warn).
func LoadOrCreateKey(envName, keyFile string) (key []byte, created bool, err error) {
	if envName == "" {
		envName = KeyEnv
	}
	if v := os.Getenv(envName); v != "" {
		return []byte(v), false, nil
	}
	if b, err := os.ReadFile(keyFile); err == nil {
		k := strings.TrimSpace(string(b))
		if k == "" {
			return nil, false, fmt.Errorf("reading pseudonymisation key %s: file is empty", keyFile)
		}
		return []byte(k), false, nil
	} else if !errors.Is(err, os.ErrNotExist) {
		return nil, false, fmt.Errorf("reading pseudonymisation key %s: %w", keyFile, err)
	}
	raw := make([]byte, 32)
	if _, err := rand.Read(raw); err != nil {
		return nil, false, fmt.Errorf("generating pseudonymisation key: %w", err)
	}
	k := hex.EncodeToString(raw)
	if err := os.WriteFile(keyFile, []byte(k+"\n"), 0o600); err != nil {
		return nil, false, fmt.Errorf("writing pseudonymisation key %s: %w", keyFile, err)
	}
	return []byte(k), true, nil
}
