package config

import (
	"strings"
	"testing"
)

func TestCollectorsProblemsAtOnce(t *testing.T) {
	text := `collectors:
  timeout: -1s
  chatwoot_api:
    desk:
      base_url: app.chatwoot.com
      token_env: "not a name"
  meta_graph:
    desk:
      waba_id: "1"
      token: abc
      token_env: X
      currency: euro
  drop_folders:
    "bad name":
      paths: []
      patterns: ["[x"]
`
	_, err := loadText(t, text)
	if err == nil {
		t.Fatal("no error")
	}
	for _, want := range []string{
		`collectors.timeout: must be positive (line 2)`,
		`collectors.chatwoot_api.desk.base_url: "app.chatwoot.com" is not an http(s) URL (line 5)`,
		`collectors.chatwoot_api.desk.account_id: is required (line 4)`,
		`collectors.chatwoot_api.desk.token_env: "not a name" is not an environment variable name (line 6)`,
		`collectors.meta_graph.desk: name "desk" is also used under collectors.chatwoot_api; names must be unique across kinds (line 8)`,
		`collectors.meta_graph.desk: set either token_env or token, not both (line 8)`,
		`collectors.meta_graph.desk.currency: "euro" is not an ISO 4217 code like USD (line 12)`,
		`collectors.drop_folders.bad name: collector names use letters, digits, _ and - only (line 14)`,
		`collectors.drop_folders.bad name.paths: needs at least one directory (line 15)`,
		`collectors.drop_folders.bad name.patterns[0]: "[x" is not a file name pattern`,
	} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("errors lack %q:\n%v", want, err)
		}
	}
}

func TestCollectorDefaults(t *testing.T) {
	c, err := loadText(t, "collectors:\n  chatwoot_api:\n    desk: {base_url: \"https://cw.example\", account_id: \"1\"}\n  meta_graph:\n    waba: {waba_id: \"2\", token: lit}\n  drop_folders:\n    in: {paths: [/x]}\n")
	if err != nil {
		t.Fatal(err)
	}
	if got := c.Collectors.ChatwootAPI["desk"]; got.TokenEnv != DefaultChatwootAPITokenEnv || got.RateLimit != 5 {
		t.Errorf("chatwoot defaults: %+v", got)
	}
	if got := c.Collectors.MetaGraph["waba"]; got.TokenEnv != "" || got.Token != "lit" || got.RateLimit != 2 {
		t.Errorf("meta defaults: %+v", got)
	}
	if got := c.Collectors.DropFolders["in"]; got.Source != "auto" {
		t.Errorf("drop folder defaults: %+v", got)
	}
	if got := strings.Join(c.Collectors.Names(), ","); got != "desk,in,waba" {
		t.Errorf("names = %s", got)
	}
}
