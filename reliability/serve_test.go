package reliability_test

import (
	"bytes"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"io"
	"net"
	"net/http"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// TestServeDrainsPastABadBody posts a signed Meta webhook whose message id
// is not UTF-8, then a good one, to `closedloop serve`: the bad body must
// become a reject and the good one must be stored, the drainer must not
// stall on the bad one.
// (serve applies ingest.CheckDecoded to spooled bodies, as ingest does.)
func TestServeDrainsPastABadBody(t *testing.T) {
	if testing.Short() {
		t.Skip("integration test: runs closedloop serve (skipped with -short)")
	}
	binary(t)
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	db := filepath.Join(t.TempDir(), "serve.duckdb")
	cmd, out, errb := command(t, "serve", "--db", db, "--addr", addr)
	cmd.Env = append(cmd.Env, "CLOSEDLOOP_META_APP_SECRET=reliability-secret")
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() {
		_ = cmd.Process.Signal(syscall.SIGTERM)
		_ = cmd.Wait()
		t.Logf("serve output:\n%s%s", out, errb)
	}()
	base := "http://" + addr
	for i := 0; ; i++ {
		if r, err := http.Get(base + "/healthz"); err == nil {
			r.Body.Close()
			break
		}
		if i > 100 {
			t.Fatal("serve did not come up")
		}
		time.Sleep(100 * time.Millisecond)
	}
	post := func(body string) {
		m := hmac.New(sha256.New, []byte("reliability-secret"))
		m.Write([]byte(body))
		req, _ := http.NewRequest("POST", base+"/webhooks/whatsapp", strings.NewReader(body))
		req.Header.Set("X-Hub-Signature-256", "sha256="+hex.EncodeToString(m.Sum(nil)))
		req.Header.Set("Content-Type", "application/json")
		r, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		r.Body.Close()
		if r.StatusCode != 200 {
			t.Fatalf("webhook answered %d", r.StatusCode)
		}
	}
	body := func(id string) string {
		return `{"object":"whatsapp_business_account","entry":[{"id":"1","changes":[{"field":"messages","value":{"messaging_product":"whatsapp",` +
			`"metadata":{"phone_number_id":"106540352242904"},"messages":[{"from":"447700900777","id":"` + id +
			`","timestamp":"` + strconv.FormatInt(time.Now().Unix(), 10) + `","type":"text","text":{"body":"x"}}]}}]}]}`
	}
	post(body("wamid.bad\xff\xfe"))
	post(body("wamid.good"))
	deadline := time.Now().Add(15 * time.Second)
	for {
		r, err := http.Get(base + "/metrics")
		if err != nil {
			t.Fatal(err)
		}
		m, _ := io.ReadAll(r.Body)
		r.Body.Close()
		if bytes.Contains(m, []byte(`closedloop_ingested_rows_total{table="messages"} 1`)) {
			break
		}
		if time.Now().After(deadline) {
			rz, _ := http.Get(base + "/readyz")
			why, _ := io.ReadAll(rz.Body)
			rz.Body.Close()
			t.Fatalf("the good webhook was not stored within 15 s; /readyz: %s", why)
		}
		time.Sleep(200 * time.Millisecond)
	}
}
