package audit

import (
	"bytes"
	"crypto/ed25519"
	"crypto/rand"
	"crypto/sha256"
	"crypto/x509"
	"encoding/hex"
	"encoding/pem"
	"errors"
	"fmt"
	"os"
	"strings"
)

// Key files are PEM, readable by OpenSSL (openssl pkey -in KEY -text):
// the private key as PKCS#8 ("-----BEGIN PRIVATE KEY-----"), the public key
// as SubjectPublicKeyInfo ("-----BEGIN PUBLIC KEY-----"). Readers also
// accept hex: 64 hex characters for a public key or a private seed, 128 for
// Go's private key (seed ‖ public key).

// GenerateKey makes a new Ed25519 key pair.
func GenerateKey() (ed25519.PublicKey, ed25519.PrivateKey, error) {
	return ed25519.GenerateKey(rand.Reader)
}

// EncodePrivateKeyPEM renders a private key as PKCS#8 PEM.
func EncodePrivateKeyPEM(priv ed25519.PrivateKey) ([]byte, error) {
	der, err := x509.MarshalPKCS8PrivateKey(priv)
	if err != nil {
		return nil, err
	}
	return pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}), nil
}

// EncodePublicKeyPEM renders a public key as SubjectPublicKeyInfo PEM.
func EncodePublicKeyPEM(pub ed25519.PublicKey) ([]byte, error) {
	der, err := x509.MarshalPKIXPublicKey(pub)
	if err != nil {
		return nil, err
	}
	return pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der}), nil
}

// ParsePrivateKey reads a PKCS#8 PEM or hex Ed25519 private key.
func ParsePrivateKey(b []byte) (ed25519.PrivateKey, error) {
	if blk, _ := pem.Decode(b); blk != nil {
		k, err := x509.ParsePKCS8PrivateKey(blk.Bytes)
		if err != nil {
			return nil, fmt.Errorf("not a PKCS#8 private key: %v", err)
		}
		priv, ok := k.(ed25519.PrivateKey)
		if !ok {
			return nil, fmt.Errorf("the key is a %T, not Ed25519", k)
		}
		return priv, nil
	}
	raw, err := hex.DecodeString(strings.TrimSpace(string(b)))
	if err != nil {
		return nil, errors.New("neither PEM nor hex")
	}
	switch len(raw) {
	case ed25519.SeedSize:
		return ed25519.NewKeyFromSeed(raw), nil
	case ed25519.PrivateKeySize:
		priv := ed25519.NewKeyFromSeed(raw[:ed25519.SeedSize])
		if !bytes.Equal(priv, raw) {
			return nil, errors.New("hex private key: public half does not match the seed")
		}
		return priv, nil
	}
	return nil, fmt.Errorf("hex private key has %d bytes, want 32 (seed) or 64", len(raw))
}

// ParsePublicKey reads a SubjectPublicKeyInfo PEM or hex Ed25519 public key.
func ParsePublicKey(b []byte) (ed25519.PublicKey, error) {
	if blk, _ := pem.Decode(b); blk != nil {
		k, err := x509.ParsePKIXPublicKey(blk.Bytes)
		if err != nil {
			return nil, fmt.Errorf("not a PEM public key: %v", err)
		}
		pub, ok := k.(ed25519.PublicKey)
		if !ok {
			return nil, fmt.Errorf("the key is a %T, not Ed25519", k)
		}
		return pub, nil
	}
	raw, err := hex.DecodeString(strings.TrimSpace(string(b)))
	if err != nil || len(raw) != ed25519.PublicKeySize {
		return nil, errors.New("neither a PEM public key nor 64 hex characters")
	}
	return ed25519.PublicKey(raw), nil
}

// ReadPrivateKeyFile reads a private key file.
func ReadPrivateKeyFile(path string) (ed25519.PrivateKey, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("reading signing key: %w", err)
	}
	k, err := ParsePrivateKey(b)
	if err != nil {
		return nil, fmt.Errorf("reading signing key %s: %v", path, err)
	}
	return k, nil
}

// ReadPublicKeyFile reads a public key file.
func ReadPublicKeyFile(path string) (ed25519.PublicKey, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("reading public key: %w", err)
	}
	k, err := ParsePublicKey(b)
	if err != nil {
		return nil, fmt.Errorf("reading public key %s: %v", path, err)
	}
	return k, nil
}

// KeyFingerprint is the hex SHA-256 of the raw 32-byte public key.
func KeyFingerprint(pub ed25519.PublicKey) string {
	s := sha256.Sum256(pub)
	return hex.EncodeToString(s[:])
}

// WriteKeyPair creates path (the private key, mode 0600) and path+".pub"
// (the public key, 0644). Existing files are not overwritten unless force.
func WriteKeyPair(path string, force bool) (ed25519.PublicKey, error) {
	pub, priv, err := GenerateKey()
	if err != nil {
		return nil, err
	}
	privPEM, err := EncodePrivateKeyPEM(priv)
	if err != nil {
		return nil, err
	}
	pubPEM, err := EncodePublicKeyPEM(pub)
	if err != nil {
		return nil, err
	}
	flags := os.O_WRONLY | os.O_CREATE | os.O_TRUNC
	if !force {
		flags |= os.O_EXCL
		if _, err := os.Stat(path + ".pub"); err == nil {
			return nil, fmt.Errorf("%s.pub already exists (use --force to replace the key pair)", path)
		}
	}
	f, err := os.OpenFile(path, flags, 0o600)
	if err != nil {
		if errors.Is(err, os.ErrExist) {
			return nil, fmt.Errorf("%s already exists (use --force to replace the key pair)", path)
		}
		return nil, err
	}
	if err := f.Chmod(0o600); err != nil {
		f.Close()
		return nil, err
	}
	if _, err := f.Write(privPEM); err != nil {
		f.Close()
		return nil, err
	}
	if err := f.Close(); err != nil {
		return nil, err
	}
	if err := os.WriteFile(path+".pub", pubPEM, 0o644); err != nil {
		return nil, err
	}
	return pub, nil
}
