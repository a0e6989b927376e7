// Package chtest starts throw-away ClickHouse servers for integration tests:
// each listens on a free loopback port, keeps its data in a temporary
// directory and is stopped when the test ends.
//
// Tests that need a server are named Test…Integration. Under -short they
// skip; otherwise a missing clickhouse-server fails them with a message
// saying how to install it (scripts/test installs Debian's clickhouse-server).
package chtest

import (
	"bytes"
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	ch "github.com/ClickHouse/clickhouse-go/v2"
)

// Server is one running clickhouse-server.
type Server struct {
	Port int    // native protocol port on 127.0.0.1
	Dir  string // data, logs and config
	cmd  *exec.Cmd
	done chan error
}

// Addr is host:port of the native protocol.
func (s *Server) Addr() string { return net.JoinHostPort("127.0.0.1", strconv.Itoa(s.Port)) }

// DSN is a closedloop store DSN for database db on this server; extra is
// appended as the query string (e.g. "cluster=test").
func (s *Server) DSN(db string, extra ...string) string {
	dsn := "clickhouse://" + s.Addr() + "/" + db
	if len(extra) > 0 {
		dsn += "?" + strings.Join(extra, "&")
	}
	return dsn
}

// Require skips t under -short and fails it when no ClickHouse server
// binary is installed; it returns the command that starts a server.
func Require(t testing.TB) []string {
	t.Helper()
	if testing.Short() {
		t.Skip("integration test: starts a ClickHouse server; skipped under -short")
	}
	if p, err := exec.LookPath("clickhouse-server"); err == nil {
		return []string{p}
	}
	if p, err := exec.LookPath("clickhouse"); err == nil {
		return []string{p, "server"}
	}
	t.Fatal("clickhouse-server is not installed: install it with `apt-get install clickhouse-server clickhouse-client` " +
		"(scripts/test does this when run as root), or run the tests with -short to skip the ClickHouse integration tests")
	return nil
}

// Start starts one server and stops it when t ends.
func Start(t testing.TB) *Server {
	t.Helper()
	return StartCluster(t, "", 1)[0]
}

// StartCluster starts n servers; when cluster is not empty, each server's
// remote_servers defines cluster as n shards of one replica each, in order.
func StartCluster(t testing.TB, cluster string, n int) []*Server {
	t.Helper()
	bin := Require(t)
	ports := make([]int, n)
	for i := range ports {
		ports[i] = freePort(t)
	}
	servers := make([]*Server, n)
	for i := range servers {
		dir := t.TempDir()
		s := &Server{Port: ports[i], Dir: dir}
		if err := writeConfig(dir, ports[i], cluster, ports); err != nil {
			t.Fatal(err)
		}
		s.start(t, bin)
		servers[i] = s
	}
	for _, s := range servers {
		s.wait(t)
	}
	return servers
}

func freePort(t testing.TB) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("finding a free port: %v", err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

func writeConfig(dir string, port int, cluster string, ports []int) error {
	for _, d := range []string{"data", "tmp", "user_files", "log"} {
		if err := os.MkdirAll(filepath.Join(dir, d), 0o755); err != nil {
			return err
		}
	}
	var remote string
	if cluster != "" {
		var b strings.Builder
		fmt.Fprintf(&b, "  <remote_servers>\n    <%s>\n", cluster)
		for _, p := range ports {
			fmt.Fprintf(&b, "      <shard><replica><host>127.0.0.1</host><port>%d</port></replica></shard>\n", p)
		}
		fmt.Fprintf(&b, "    </%s>\n  </remote_servers>\n", cluster)
		remote = b.String()
	}
	cfg := fmt.Sprintf(`<?xml version="1.0"?>
<yandex>
  <logger>
    <level>warning</level>
    <log>%[1]s/log/server.log</log>
    <errorlog>%[1]s/log/error.log</errorlog>
    <console>0</console>
  </logger>
  <listen_host>127.0.0.1</listen_host>
  <tcp_port>%[2]d</tcp_port>
  <path>%[1]s/data/</path>
  <tmp_path>%[1]s/tmp/</tmp_path>
  <user_files_path>%[1]s/user_files/</user_files_path>
  <format_schema_path>%[1]s/format_schemas/</format_schema_path>
  <users_config>%[1]s/users.xml</users_config>
  <default_profile>default</default_profile>
  <default_database>default</default_database>
  <timezone>UTC</timezone>
  <mark_cache_size>67108864</mark_cache_size>
  <uncompressed_cache_size>67108864</uncompressed_cache_size>
  <max_concurrent_queries>50</max_concurrent_queries>
%[3]s</yandex>
`, dir, port, remote)
	users := `<?xml version="1.0"?>
<yandex>
  <profiles>
    <default>
      <max_memory_usage>2000000000</max_memory_usage>
      <max_threads>2</max_threads>
    </default>
  </profiles>
  <users>
    <default>
      <password></password>
      <networks><ip>127.0.0.1</ip><ip>::1</ip></networks>
      <profile>default</profile>
      <quota>default</quota>
    </default>
  </users>
  <quotas><default></default></quotas>
</yandex>
`
	if err := os.WriteFile(filepath.Join(dir, "config.xml"), []byte(cfg), 0o644); err != nil {
		return err
	}
	return os.WriteFile(filepath.Join(dir, "users.xml"), []byte(users), 0o644)
}

func (s *Server) start(t testing.TB, bin []string) {
	t.Helper()
	args := append(append([]string{}, bin[1:]...), "--config-file="+filepath.Join(s.Dir, "config.xml"))
	cmd := exec.Command(bin[0], args...)
	cmd.Dir = s.Dir
	out, err := os.Create(filepath.Join(s.Dir, "log", "stdout.log"))
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stdout, cmd.Stderr = out, out
	cmd.SysProcAttr = procAttr()
	if err := cmd.Start(); err != nil {
		out.Close()
		t.Fatalf("starting %s: %v", bin[0], err)
	}
	s.cmd = cmd
	s.done = make(chan error, 1)
	go func() { s.done <- cmd.Wait(); out.Close() }()
	t.Cleanup(s.stop)
}

// wait blocks until the server answers a ping (or fails the test).
func (s *Server) wait(t testing.TB) {
	t.Helper()
	deadline := time.Now().Add(90 * time.Second)
	for {
		select {
		case err := <-s.done:
			s.done <- err
			t.Fatalf("clickhouse-server on port %d exited during start-up (%v):\n%s", s.Port, err, s.Logs())
		default:
		}
		if s.ping() == nil {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("clickhouse-server on port %d did not accept connections within 90s:\n%s", s.Port, s.Logs())
		}
		time.Sleep(200 * time.Millisecond)
	}
}

func (s *Server) ping() error {
	c, err := net.DialTimeout("tcp", s.Addr(), time.Second)
	if err != nil {
		return err
	}
	c.Close()
	conn, err := ch.Open(&ch.Options{Addr: []string{s.Addr()}, DialTimeout: 2 * time.Second})
	if err != nil {
		return err
	}
	defer conn.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	return conn.Ping(ctx)
}

// stop terminates the server (SIGTERM, then SIGKILL after 20s).
func (s *Server) stop() {
	if s.cmd == nil || s.cmd.Process == nil {
		return
	}
	select {
	case err := <-s.done:
		s.done <- err
		return
	default:
	}
	_ = s.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case err := <-s.done:
		s.done <- err
	case <-time.After(20 * time.Second):
		_ = s.cmd.Process.Kill()
		err := <-s.done
		s.done <- err
	}
}

// Logs returns the tail of the server's logs, for failure messages.
func (s *Server) Logs() string {
	var b bytes.Buffer
	for _, f := range []string{"stdout.log", "error.log"} {
		data, err := os.ReadFile(filepath.Join(s.Dir, "log", f))
		if err != nil || len(data) == 0 {
			continue
		}
		if len(data) > 4000 {
			data = data[len(data)-4000:]
		}
		fmt.Fprintf(&b, "--- %s\n%s\n", f, data)
	}
	return b.String()
}
