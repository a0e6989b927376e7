package pulltest

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"
)

// The real API responses (testdata/real/SOURCES.md, "Chatwoot REST API"),
// relative to the repository root.
const (
	chatwootListFixture     = "testdata/real/chatwoot_api/derived/conversations_list_data.json"
	chatwootMessagesFixture = "testdata/real/chatwoot_api/derived/messages_list_payload.json"
	// ChatwootToken is the api_access_token the replay accepts.
	ChatwootToken   = "cw-secret-token-0123456789"
	messagesPerPage = 20 // Chatwoot's page size for messages
)

// Chatwoot is an httptest Chatwoot serving the published responses:
//
//   - the conversation list is the published `data` object. Its one
//     conversation (display id 10, inbox 6) is served on page 2, verbatim.
//     Page 1 holds a copy of it standing for conversation 1016 (inbox 486,
//     contact 599, last activity 1732710762), the conversation whose
//     messages were published; page 3 is empty. (Chatwoot sorts by last
//     activity, newest first: 1016 is newer.)
//   - messages of 1016 are the published 29-message payload, served 20 a
//     page, oldest first within a page, `before=<id>` giving older ones as
//     Chatwoot does; messages of 10 are its list entry's messages[].
//
// Failures are injected per request by fail (nil: none).
type Chatwoot struct {
	// URL is the server's base URL.
	URL string
	Mu  sync.Mutex
	// Convs are the conversations in list order (tests change them
	// between runs, holding Mu).
	Convs []map[string]any
	// messages by conversation id, ascending by id.
	messages map[string][]map[string]any
	// requests logs "path?query" of every request.
	requests []string
	// Fail injects a failure for the n-th request (status 0: none).
	Fail func(r *http.Request, n int) (status int, header map[string]string, body string)
	// OnRequest runs before the response (tests cancel contexts from it).
	OnRequest func(r *http.Request)
}

func readJSON(t testing.TB, path string, v any) {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(b, v); err != nil {
		t.Fatal(err)
	}
}

// NewChatwoot starts the replay; root is the repository root.
func NewChatwoot(t testing.TB, root string) *Chatwoot {
	t.Helper()
	var data struct {
		Meta    map[string]any   `json:"meta"`
		Payload []map[string]any `json:"payload"`
	}
	readJSON(t, filepath.Join(root, chatwootListFixture), &data)
	if len(data.Payload) != 1 {
		t.Fatalf("fixture has %d conversations, want 1", len(data.Payload))
	}
	conv10 := data.Payload[0]
	var clone map[string]any
	b, _ := json.Marshal(conv10)
	json.Unmarshal(b, &clone)
	clone["id"] = 1016
	clone["inbox_id"] = 486
	clone["timestamp"] = 1732710762
	clone["messages"] = []any{}
	clone["meta"].(map[string]any)["sender"].(map[string]any)["id"] = 599
	var msgs []map[string]any
	readJSON(t, filepath.Join(root, chatwootMessagesFixture), &msgs)
	sort.Slice(msgs, func(i, j int) bool { return num(msgs[i]["id"]) < num(msgs[j]["id"]) })
	own := []map[string]any{}
	for _, m := range conv10["messages"].([]any) {
		own = append(own, m.(map[string]any))
	}
	r := &Chatwoot{Convs: []map[string]any{clone, conv10},
		messages: map[string][]map[string]any{"1016": msgs, "10": own}}
	srv := httptest.NewServer(http.HandlerFunc(r.serve))
	t.Cleanup(srv.Close)
	r.URL = srv.URL
	return r
}

func num(v any) int64 {
	switch x := v.(type) {
	case float64:
		return int64(x)
	case int:
		return int64(x)
	case string:
		n, _ := strconv.ParseInt(x, 10, 64)
		return n
	}
	return 0
}

func (rp *Chatwoot) serve(w http.ResponseWriter, r *http.Request) {
	rp.Mu.Lock()
	rp.requests = append(rp.requests, r.URL.Path+"?"+r.URL.RawQuery)
	n := len(rp.requests)
	fail, hook := rp.Fail, rp.OnRequest
	rp.Mu.Unlock()
	if hook != nil {
		hook(r)
	}
	if fail != nil {
		if status, hdr, body := fail(r, n); status != 0 {
			for k, v := range hdr {
				w.Header().Set(k, v)
			}
			w.WriteHeader(status)
			fmt.Fprint(w, body)
			return
		}
	}
	if r.Header.Get("api_access_token") != ChatwootToken {
		w.WriteHeader(http.StatusUnauthorized)
		fmt.Fprint(w, `{"error":"You need to sign in or sign up before continuing."}`)
		return
	}
	rp.Mu.Lock()
	defer rp.Mu.Unlock()
	parts := strings.Split(strings.Trim(r.URL.Path, "/"), "/")
	// api/v1/accounts/1/conversations[/ID/messages]
	if len(parts) < 5 || parts[0] != "api" || parts[3] != "1" || parts[4] != "conversations" {
		http.NotFound(w, r)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	switch len(parts) {
	case 5:
		page, _ := strconv.Atoi(r.URL.Query().Get("page"))
		if r.URL.Query().Get("status") != "all" || page < 1 {
			http.Error(w, "bad query", http.StatusBadRequest)
			return
		}
		var convs []map[string]any
		for _, c := range rp.Convs {
			if ib := r.URL.Query().Get("inbox_id"); ib == "" || ib == fmt.Sprint(c["inbox_id"]) {
				convs = append(convs, c)
			}
		}
		payload := []map[string]any{}
		if page <= len(convs) {
			payload = append(payload, convs[page-1])
		}
		json.NewEncoder(w).Encode(map[string]any{"data": map[string]any{
			"meta": map[string]any{"mine_count": 0, "unassigned_count": 0, "all_count": len(rp.Convs)}, "payload": payload}})
	case 7:
		all := rp.messages[parts[5]]
		before := int64(1 << 62)
		if b := r.URL.Query().Get("before"); b != "" {
			before, _ = strconv.ParseInt(b, 10, 64)
		}
		var older []map[string]any
		for _, m := range all {
			if num(m["id"]) < before {
				older = append(older, m)
			}
		}
		if len(older) > messagesPerPage {
			older = older[len(older)-messagesPerPage:]
		}
		if older == nil {
			older = []map[string]any{}
		}
		json.NewEncoder(w).Encode(map[string]any{"meta": map[string]any{}, "payload": older})
	default:
		http.NotFound(w, r)
	}
}

// Log returns "path?query" of every request so far.
func (rp *Chatwoot) Log() []string {
	rp.Mu.Lock()
	defer rp.Mu.Unlock()
	return append([]string(nil), rp.requests...)
}

// Reset forgets the requests so far.
func (rp *Chatwoot) Reset() {
	rp.Mu.Lock()
	defer rp.Mu.Unlock()
	rp.requests = nil
}
