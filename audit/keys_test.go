package audit

import (
	"crypto/ed25519"
	"encoding/hex"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestKeyFiles(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "sign.key")
	pub, err := WriteKeyPair(path, false)
	if err != nil {
		t.Fatal(err)
	}
	st, _ := os.Stat(path)
	if st.Mode().Perm() != 0o600 {
		t.Fatalf("private key mode %v", st.Mode().Perm())
	}
	if _, err := WriteKeyPair(path, false); err == nil || !strings.Contains(err.Error(), "already exists") {
		t.Fatalf("overwrote an existing key: %v", err)
	}
	priv, err := ReadPrivateKeyFile(path)
	if err != nil {
		t.Fatal(err)
	}
	pub2, err := ReadPublicKeyFile(path + ".pub")
	if err != nil || !pub.Equal(pub2) || !pub.Equal(priv.Public()) {
		t.Fatalf("public key round trip: %v", err)
	}
	b, _ := os.ReadFile(path)
	if !strings.HasPrefix(string(b), "-----BEGIN PRIVATE KEY-----") {
		t.Fatal(string(b))
	}
	// Hex forms.
	if k, err := ParsePrivateKey([]byte(hex.EncodeToString(priv.Seed()) + "\n")); err != nil || !k.Equal(priv) {
		t.Fatalf("seed hex: %v", err)
	}
	if k, err := ParsePrivateKey([]byte(hex.EncodeToString(priv))); err != nil || !k.Equal(priv) {
		t.Fatalf("private hex: %v", err)
	}
	if k, err := ParsePublicKey([]byte(hex.EncodeToString(pub))); err != nil || !k.Equal(pub) {
		t.Fatalf("public hex: %v", err)
	}
	if _, err := ParsePublicKey([]byte("nope")); err == nil {
		t.Fatal("garbage accepted")
	}
	msg := []byte("manifest")
	if !ed25519.Verify(pub2, msg, ed25519.Sign(priv, msg)) {
		t.Fatal("sign/verify")
	}
	if len(KeyFingerprint(pub)) != 64 {
		t.Fatal("fingerprint")
	}
	if _, err := WriteKeyPair(path, true); err != nil {
		t.Fatalf("--force: %v", err)
	}
}
