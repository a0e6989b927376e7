package sendgrid

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/pem"
	"errors"
	"fmt"
	"strings"
)

// Headers of SendGrid's Signed Event Webhook.
const (
	SignatureHeader = "X-Twilio-Email-Event-Webhook-Signature"
	TimestampHeader = "X-Twilio-Email-Event-Webhook-Timestamp"
)

// PublicKeyEnv is the environment variable holding the verification key
// SendGrid shows in its Mail Settings (base64 DER of an ECDSA P-256 public
// key, or the same key in PEM).
const PublicKeyEnv = "CLOSEDLOOP_SENDGRID_PUBLIC_KEY"

// ParsePublicKey reads SendGrid's verification key: the base64 of a DER
// SubjectPublicKeyInfo ("MFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAE…"), or PEM.
func ParsePublicKey(s string) (*ecdsa.PublicKey, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return nil, errors.New("sendgrid: empty public key")
	}
	var der []byte
	if b, _ := pem.Decode([]byte(s)); b != nil {
		der = b.Bytes
	} else {
		var err error
		if der, err = base64.StdEncoding.DecodeString(s); err != nil {
			return nil, fmt.Errorf("sendgrid: public key is neither PEM nor base64: %v", err)
		}
	}
	k, err := x509.ParsePKIXPublicKey(der)
	if err != nil {
		return nil, fmt.Errorf("sendgrid: reading the public key: %v", err)
	}
	pub, ok := k.(*ecdsa.PublicKey)
	if !ok || pub.Curve != elliptic.P256() {
		return nil, errors.New("sendgrid: the public key is not an ECDSA P-256 key")
	}
	return pub, nil
}

// signedBytes is what SendGrid signs: the timestamp header followed by the
// raw body.
func signedBytes(timestamp string, payload []byte) []byte {
	b := make([]byte, 0, len(timestamp)+len(payload))
	return append(append(b, timestamp...), payload...)
}

// VerifySignature reports whether signature (the base64 ASN.1 DER ECDSA
// signature of the signature header) signs timestamp followed by the raw
// payload under pub. A missing key, signature or timestamp never verifies.
func VerifySignature(pub *ecdsa.PublicKey, payload []byte, signature, timestamp string) bool {
	if pub == nil || signature == "" || timestamp == "" {
		return false
	}
	sig, err := base64.StdEncoding.Strict().DecodeString(strings.TrimSpace(signature))
	if err != nil {
		return false
	}
	h := sha256.Sum256(signedBytes(timestamp, payload))
	return ecdsa.VerifyASN1(pub, h[:], sig)
}

// Sign signs a payload as SendGrid does (tests and replay tools).
func Sign(priv *ecdsa.PrivateKey, payload []byte, timestamp string) (string, error) {
	h := sha256.Sum256(signedBytes(timestamp, payload))
	sig, err := ecdsa.SignASN1(rand.Reader, priv, h[:])
	if err != nil {
		return "", err
	}
	return base64.StdEncoding.EncodeToString(sig), nil
}

// EncodePublicKey renders a public key the way SendGrid shows it (base64 DER).
func EncodePublicKey(pub *ecdsa.PublicKey) (string, error) {
	der, err := x509.MarshalPKIXPublicKey(pub)
	if err != nil {
		return "", err
	}
	return base64.StdEncoding.EncodeToString(der), nil
}
