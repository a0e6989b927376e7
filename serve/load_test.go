package serve

import (
	"context"
	"net/url"
	"os"
	"strconv"
	"testing"
	"time"
)

// TestLoadWebhooksIntegration sends signed WhatsApp webhooks (the real
// inbound-message payload with distinct wamids) over loopback from a few
// concurrent clients as fast as the server acknowledges them, for a bounded
// time, then drains the spool and checks acknowledged == stored.
// $CLOSEDLOOP_LOAD_SECONDS changes the duration (default 20).
func TestLoadWebhooksIntegration(t *testing.T) {
	if testing.Short() {
		t.Skip("load test: skipped under -short")
	}
	secs := 20
	if s, err := strconv.Atoi(os.Getenv("CLOSEDLOOP_LOAD_SECONDS")); err == nil && s > 0 && s <= 300 {
		secs = s
	}
	ts := newTestServer(t, "")
	u, _ := url.Parse(ts.url)
	const clients = 8
	stop := make(chan struct{})
	start := time.Now()
	time.AfterFunc(time.Duration(secs)*time.Second, func() { close(stop) })
	acked, failed := loadClients(t, u.Host, "load", clients, stop)
	elapsed := time.Since(start)

	// Stop taking requests, then drain what the spool holds.
	ts.hs.Close()
	lagBytes, lagEvents := ts.spool.Lag()
	drainStart := time.Now()
	if err := ts.Close(); err != nil {
		t.Fatal(err)
	}
	drainTime := time.Since(drainStart)
	stored := count(t, ts.st, `SELECT count(DISTINCT message_id) FROM messages WHERE message_id LIKE 'wamid.load-%'`)
	rows := count(t, ts.st, `SELECT count(*) FROM messages WHERE message_id LIKE 'wamid.load-%'`)
	rate := float64(len(acked)) / elapsed.Seconds()
	t.Logf("load: %d clients for %s: %d webhooks acknowledged (%.0f/s), %d failed; at the end %d bodies (%d bytes) were still in the spool, drained in %s; %d stored (%d rows)",
		clients, elapsed.Round(time.Millisecond), len(acked), rate, failed, lagEvents, lagBytes, drainTime.Round(time.Millisecond), stored, rows)
	if len(acked) == 0 {
		t.Fatal("nothing was acknowledged")
	}
	if failed > 0 {
		t.Errorf("%d requests failed", failed)
	}
	if stored != len(acked) || rows != len(acked) {
		t.Errorf("acknowledged %d, stored %d distinct (%d rows)", len(acked), stored, rows)
	}
	if got := counterValue(t, ts.metrics.webhooks.WithLabelValues(EndpointWhatsApp, OutcomeAccepted)); int(got) != len(acked) {
		t.Errorf("accepted counter %v, acknowledged %d", got, len(acked))
	}
	if err := ts.ready(context.Background()); err == nil {
		// Close stopped the drainer: readiness must say so.
		t.Error("ready after Close")
	}
}
