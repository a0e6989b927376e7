package serve

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/closedloop/closedloop/pii"
	"github.com/closedloop/closedloop/store"
	"github.com/closedloop/closedloop/store/duckdb"
)

// The crash test runs the server as a child process: the test binary
// re-executed in helper mode (see TestMain), so no second binary is linked.
const (
	helperEnv      = "CLOSEDLOOP_SERVE_TEST_HELPER"
	helperDB       = "CLOSEDLOOP_SERVE_TEST_DB"
	helperSpool    = "CLOSEDLOOP_SERVE_TEST_SPOOL"
	helperAddrFile = "CLOSEDLOOP_SERVE_TEST_ADDR_FILE"
	helperDelay    = "CLOSEDLOOP_SERVE_TEST_DRAIN_DELAY"
)

// runHelperServer is the child: serve until SIGTERM (or until killed).
func runHelperServer() int {
	fail := func(err error) int { fmt.Fprintln(os.Stderr, "helper:", err); return 1 }
	ctx := context.Background()
	st, err := duckdb.Open(ctx, os.Getenv(helperDB), store.Options{})
	if err != nil {
		return fail(err)
	}
	defer st.Close()
	ps, err := pii.New(testPIIKey, false)
	if err != nil {
		return fail(err)
	}
	delay, _ := time.ParseDuration(os.Getenv(helperDelay))
	srv, err := New(Options{Store: st, Config: testConfig(), Pseudo: ps, SpoolDir: os.Getenv(helperSpool),
		Getenv: testEnv, Log: os.Stderr, drainDelay: delay})
	if err != nil {
		return fail(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return fail(err)
	}
	addrFile := os.Getenv(helperAddrFile)
	if err := os.WriteFile(addrFile+".tmp", []byte(ln.Addr().String()), 0o644); err != nil {
		return fail(err)
	}
	if err := os.Rename(addrFile+".tmp", addrFile); err != nil {
		return fail(err)
	}
	sctx, stop := signal.NotifyContext(ctx, syscall.SIGTERM, syscall.SIGINT)
	defer stop()
	if err := srv.Serve(sctx, ln); err != nil {
		return fail(err)
	}
	return 0
}

type child struct {
	cmd  *exec.Cmd
	addr string
	logs *bytes.Buffer
}

func startChild(t *testing.T, dir string, phase int, drainDelay time.Duration) *child {
	t.Helper()
	addrFile := filepath.Join(dir, fmt.Sprintf("addr-%d", phase))
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), helperEnv+"=1", helperDB+"="+filepath.Join(dir, "store.duckdb"),
		helperSpool+"="+filepath.Join(dir, "spool"), helperAddrFile+"="+addrFile, helperDelay+"="+drainDelay.String())
	logs := &bytes.Buffer{}
	cmd.Stdout, cmd.Stderr = logs, logs
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(60 * time.Second)
	for {
		if b, err := os.ReadFile(addrFile); err == nil {
			return &child{cmd: cmd, addr: string(b), logs: logs}
		}
		if time.Now().After(deadline) {
			cmd.Process.Kill()
			cmd.Wait()
			t.Fatalf("the server child did not start:\n%s", logs)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// loadClients sends signed inbound messages with distinct ids from n
// clients until stop is closed, and returns the ids acknowledged with 200.
func loadClients(t testing.TB, addr, prefix string, n int, stop <-chan struct{}) (acked []string, failed int64) {
	var mu sync.Mutex
	var fails atomic.Int64
	var wg sync.WaitGroup
	for c := 0; c < n; c++ {
		wg.Add(1)
		go func(c int) {
			defer wg.Done()
			client := &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{MaxIdleConnsPerHost: 4}}
			defer client.CloseIdleConnections()
			for i := 0; ; i++ {
				select {
				case <-stop:
					return
				default:
				}
				id := fmt.Sprintf("wamid.%s-%d-%d", prefix, c, i)
				body := inboundBody(t, id)
				req, _ := http.NewRequest("POST", "http://"+addr+"/webhooks/whatsapp", bytes.NewReader(body))
				req.Header.Set(SignatureHeader, Sign(testAppSecret, body))
				req.Header.Set("Content-Type", "application/json")
				resp, err := client.Do(req)
				if err != nil {
					fails.Add(1)
					select {
					case <-stop:
						return
					case <-time.After(10 * time.Millisecond):
					}
					continue
				}
				io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
				if resp.StatusCode == http.StatusOK {
					mu.Lock()
					acked = append(acked, id)
					mu.Unlock()
				} else {
					fails.Add(1)
				}
			}
		}(c)
	}
	wg.Wait()
	return acked, fails.Load()
}

// undrained counts the spooled records after the checkpoint (what a
// crash left to the next process).
func undrained(t *testing.T, spoolDir string) int64 {
	cp, ok, err := readCheckpoint(spoolDir)
	if err != nil {
		t.Fatal(err)
	}
	segs, _ := (&Spool{dir: spoolDir}).segments()
	if !ok && len(segs) > 0 {
		cp = Checkpoint{Segment: segs[0]}
	}
	var n int64
	for _, s := range segs {
		if s < cp.Segment {
			continue
		}
		from := int64(0)
		if s == cp.Segment {
			from = cp.Offset
		}
		c, err := countLines(filepath.Join(spoolDir, segName(s)), from)
		if err != nil {
			t.Fatal(err)
		}
		n += c
	}
	return n
}

// TestKill9Integration kills the server with SIGKILL in the middle of a
// load, restarts it on the same spool and store, and checks that every
// acknowledged event is stored exactly once.
func TestKill9Integration(t *testing.T) {
	if testing.Short() {
		t.Skip("kill -9 test: skipped under -short")
	}
	dir := t.TempDir()
	// The drainer pauses between a batch's load and its checkpoint, so the
	// kill finds both undrained records and loaded-but-not-checkpointed ones.
	first := startChild(t, dir, 1, 300*time.Millisecond)
	stop := make(chan struct{})
	var acked1 []string
	var failed1 int64
	done := make(chan struct{})
	go func() { acked1, failed1 = loadClients(t, first.addr, "crash1", 6, stop); close(done) }()
	time.Sleep(3 * time.Second)
	if err := first.cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	state, _ := first.cmd.Process.Wait()
	time.Sleep(200 * time.Millisecond)
	close(stop)
	<-done
	if ws, ok := state.Sys().(syscall.WaitStatus); !ok || !ws.Signaled() || ws.Signal() != syscall.SIGKILL {
		t.Fatalf("the first server was not killed by SIGKILL: %v\n%s", state, first.logs)
	}
	left := undrained(t, filepath.Join(dir, "spool"))
	t.Logf("kill -9 after %d acknowledged webhooks (%d requests failed at the kill); %d acknowledged records not yet checkpointed in the spool",
		len(acked1), failed1, left)
	if len(acked1) == 0 {
		t.Fatalf("no webhook was acknowledged before the kill:\n%s", first.logs)
	}

	// Restart on the same spool and store; it drains what the first left,
	// takes more load, then stops gracefully.
	second := startChild(t, dir, 2, 0)
	stop2 := make(chan struct{})
	var acked2 []string
	done2 := make(chan struct{})
	go func() { acked2, _ = loadClients(t, second.addr, "crash2", 3, stop2); close(done2) }()
	time.Sleep(time.Second)
	close(stop2)
	<-done2
	if err := second.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	if err := second.cmd.Wait(); err != nil {
		t.Fatalf("the restarted server did not stop cleanly: %v\n%s", err, second.logs)
	}
	if n := undrained(t, filepath.Join(dir, "spool")); n != 0 {
		t.Errorf("%d records left in the spool after a graceful stop", n)
	}

	st, err := duckdb.Open(context.Background(), filepath.Join(dir, "store.duckdb"), store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	rows, err := st.DB().Query(`SELECT message_id, count(*) FROM messages GROUP BY message_id`)
	if err != nil {
		t.Fatal(err)
	}
	stored := map[string]int{}
	for rows.Next() {
		var id string
		var n int
		if err := rows.Scan(&id, &n); err != nil {
			t.Fatal(err)
		}
		stored[id] = n
	}
	rows.Close()
	var missing, dup []string
	for _, id := range append(append([]string{}, acked1...), acked2...) {
		if stored[id] == 0 {
			missing = append(missing, id)
		}
	}
	// Nothing is stored twice, acknowledged or not.
	for id, n := range stored {
		if n > 1 {
			dup = append(dup, id)
		}
	}
	t.Logf("after restart: %d + %d acknowledged, %d distinct messages stored, %d missing, %d stored more than once",
		len(acked1), len(acked2), len(stored), len(missing), len(dup))
	if len(missing) > 0 {
		t.Errorf("%d acknowledged events lost, e.g. %v", len(missing), missing[:min(5, len(missing))])
	}
	if len(dup) > 0 {
		t.Errorf("%d events stored more than once, e.g. %v", len(dup), dup[:min(5, len(dup))])
	}
	if len(stored) < len(acked1)+len(acked2) {
		t.Errorf("stored %d < acknowledged %d", len(stored), len(acked1)+len(acked2))
	}
}

// TestGracefulShutdown stops the server (as SIGTERM does) in the middle of
// a load: requests in flight finish, every acknowledged body is drained into
// the store, and no raw body stays in the spool.
func TestGracefulShutdown(t *testing.T) {
	dir := t.TempDir()
	st, err := duckdb.Open(context.Background(), filepath.Join(dir, "store.duckdb"), store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	srv, err := New(Options{Store: st, Config: testConfig(), Pseudo: testPseudo(t), SpoolDir: filepath.Join(dir, "spool"),
		Getenv: testEnv, Log: io.Discard, drainDelay: 200 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	served := make(chan error, 1)
	go func() { served <- srv.Serve(ctx, ln) }()
	stop := make(chan struct{})
	var acked []string
	done := make(chan struct{})
	go func() { acked, _ = loadClients(t, ln.Addr().String(), "graceful", 4, stop); close(done) }()
	time.Sleep(1500 * time.Millisecond)
	_, backlog := srv.spool.Lag()
	cancel()
	if err := <-served; err != nil {
		t.Fatalf("Serve: %v", err)
	}
	close(stop)
	<-done
	if n := count(t, st, `SELECT count(DISTINCT message_id) FROM messages`); n < len(acked) {
		t.Errorf("stored %d < acknowledged %d", n, len(acked))
	}
	var missing int
	for _, id := range acked {
		if count(t, st, `SELECT count(*) FROM messages WHERE message_id = ?`, id) != 1 {
			missing++
		}
	}
	if missing > 0 {
		t.Errorf("%d acknowledged bodies not stored exactly once", missing)
	}
	if segs, _ := srv.spool.segments(); len(segs) != 0 {
		t.Errorf("segments left after a graceful stop: %v", segs)
	}
	t.Logf("graceful stop with %d bodies waiting in the spool; %d acknowledged, all stored", backlog, len(acked))
}
