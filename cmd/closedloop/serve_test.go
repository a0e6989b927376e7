package main

import (
	"bufio"
	"bytes"
	"context"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/closedloop/closedloop/serve"
	"github.com/closedloop/closedloop/store"
)

// TestServeCommand runs `closedloop serve` in-process: the secrets come
// from the documented variables, a signed webhook is stored, the dashboard
// takes the configured token, and cancelling (as SIGTERM does) drains the
// spool and returns cleanly.
func TestServeCommand(t *testing.T) {
	dir := t.TempDir()
	db := filepath.Join(dir, "serve.duckdb")
	cfg := filepath.Join(dir, "closedloop.yaml")
	if err := os.WriteFile(cfg, []byte("serve:\n  tokens:\n    - token_env: CLOSEDLOOP_TEST_VIEWER\n      role: viewer\nevidence:\n  signing_key_file: "+filepath.Join(dir, "none.key")+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	t.Setenv("CLOSEDLOOP_META_APP_SECRET", "cli-app-secret")
	t.Setenv("CLOSEDLOOP_META_VERIFY_TOKEN", "cli-verify")
	t.Setenv("CLOSEDLOOP_TEST_VIEWER", "cli-viewer-token-0123456789")

	pr, pw := io.Pipe()
	cmd := newRootCmd()
	cmd.SetOut(pw)
	var stderr bytes.Buffer
	cmd.SetErr(&stderr)
	cmd.SetArgs([]string{"--config", cfg, "serve", "--db", db, "--addr", "127.0.0.1:0"})
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	errc := make(chan error, 1)
	go func() { errc <- cmd.ExecuteContext(ctx); pw.Close() }()
	out := bufio.NewReader(pr)
	line, err := out.ReadString('\n')
	if err != nil {
		t.Fatalf("no listening line: %v\n%s", err, stderr.String())
	}
	go io.Copy(io.Discard, out)
	_, rest, ok := strings.Cut(line, "listening on ")
	if !ok {
		t.Fatalf("unexpected first line %q", line)
	}
	base := strings.Fields(rest)[0]

	get := func(path, token string) int {
		req, _ := http.NewRequest("GET", base+path, nil)
		if token != "" {
			req.Header.Set("Authorization", "Bearer "+token)
		}
		r, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		r.Body.Close()
		return r.StatusCode
	}
	if c := get("/healthz", ""); c != 200 {
		t.Errorf("/healthz: %d", c)
	}
	if c := get("/webhooks/whatsapp?hub.mode=subscribe&hub.verify_token=cli-verify&hub.challenge=7", ""); c != 200 {
		t.Errorf("handshake: %d", c)
	}
	if c := get("/", ""); c != 401 {
		t.Errorf("dashboard without a token: %d", c)
	}
	if c := get("/", "cli-viewer-token-0123456789"); c != 200 {
		t.Errorf("dashboard with the token from $CLOSEDLOOP_TEST_VIEWER: %d", c)
	}
	body, err := os.ReadFile("../../testdata/real/whatsapp_cloud/pywa/inbound_text.json")
	if err != nil {
		t.Fatal(err)
	}
	req, _ := http.NewRequest("POST", base+"/webhooks/whatsapp", bytes.NewReader(body))
	req.Header.Set(serve.SignatureHeader, serve.Sign("cli-app-secret", body))
	r, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	r.Body.Close()
	if r.StatusCode != 200 {
		t.Fatalf("signed webhook: %d", r.StatusCode)
	}

	cancel()
	select {
	case err := <-errc:
		if err != nil {
			t.Fatalf("serve: %v\n%s", err, stderr.String())
		}
	case <-time.After(2 * time.Minute):
		t.Fatal("serve did not stop")
	}
	if !strings.Contains(stderr.String(), "evidence export is disabled") {
		t.Errorf("no warning about the missing signing key:\n%s", stderr.String())
	}
	if segs, _ := filepath.Glob(filepath.Join(db+".spool", "seg-*")); len(segs) != 0 {
		t.Errorf("spool segments left after a clean stop: %v", segs)
	}
	st, err := store.Open(context.Background(), db, store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	var n int
	if err := st.DB().QueryRow(`SELECT count(*) FROM messages WHERE message_id = 'wamid.xyzxyz' AND source_ref LIKE 'webhook:whatsapp:%'`).Scan(&n); err != nil || n != 1 {
		t.Errorf("stored %d messages from the webhook (%v), want 1", n, err)
	}
}
