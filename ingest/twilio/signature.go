package twilio

import (
	"crypto/hmac"
	"crypto/sha1"
	"encoding/base64"
	"net/url"
	"sort"
	"strings"
)

// SignatureHeader carries Twilio's request signature.
const SignatureHeader = "X-Twilio-Signature"

// AuthTokenEnv is the environment variable holding the account's auth
// token, the key of X-Twilio-Signature.
const AuthTokenEnv = "CLOSEDLOOP_TWILIO_AUTH_TOKEN"

// Sign computes X-Twilio-Signature as Twilio does for a form POST: the
// base64 HMAC-SHA1, keyed with the auth token, of the full URL Twilio
// requested (scheme, host, path and query string) followed by every POST
// parameter's name and value, parameters sorted by name (values of a
// repeated name in sorted order).
func Sign(authToken, fullURL string, params url.Values) string {
	m := hmac.New(sha1.New, []byte(authToken))
	m.Write([]byte(fullURL))
	keys := make([]string, 0, len(params))
	for k := range params {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		vs := append([]string(nil), params[k]...)
		sort.Strings(vs)
		for _, v := range vs {
			m.Write([]byte(k))
			m.Write([]byte(v))
		}
	}
	return base64.StdEncoding.EncodeToString(m.Sum(nil))
}

// VerifySignature reports whether signature is Twilio's signature of the
// request to fullURL with params, in constant time. Like Twilio's own
// helpers it also accepts the URL with the default port added or removed
// (proxies differ in whether the port reaches the application). An empty
// token or signature never verifies.
func VerifySignature(authToken, fullURL string, params url.Values, signature string) bool {
	if authToken == "" || signature == "" {
		return false
	}
	got, err := base64.StdEncoding.Strict().DecodeString(strings.TrimSpace(signature))
	if err != nil {
		return false
	}
	ok := false
	for _, u := range urlVariants(fullURL) {
		want, _ := base64.StdEncoding.DecodeString(Sign(authToken, u, params))
		if hmac.Equal(got, want) {
			ok = true
		}
	}
	return ok
}

// urlVariants returns the URL as given and with its default port toggled.
func urlVariants(raw string) []string {
	out := []string{raw}
	u, err := url.Parse(raw)
	if err != nil || u.Host == "" {
		return out
	}
	def := map[string]string{"https": "443", "http": "80"}[u.Scheme]
	if def == "" {
		return out
	}
	v := *u
	if u.Port() == "" {
		v.Host = u.Host + ":" + def
	} else if u.Port() == def {
		v.Host = u.Hostname()
	} else {
		return out
	}
	return append(out, v.String())
}
