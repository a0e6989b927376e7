package config

import (
	"errors"
	"testing"
	"time"
)

// TestServeWebhookSettings parses the Twilio and SendGrid keys of the serve
// section: defaults, explicit values, and bad values reported with the
// file, the key and the line.
func TestServeWebhookSettings(t *testing.T) {
	// webhooks are the keys under test (Serve itself holds a list).
	type webhooks struct {
		TwilioAuthTokenEnv, TwilioPublicURL, SendGridPublicKeyEnv string
		SendGridMaxSkew                                           Duration
	}
	tests := []struct {
		name string
		yaml string
		// want is the serve section's Twilio and SendGrid settings when
		// err is empty.
		want webhooks
		err  string
	}{
		{name: "defaults", yaml: "serve: {}\n",
			want: webhooks{TwilioAuthTokenEnv: "CLOSEDLOOP_TWILIO_AUTH_TOKEN", SendGridPublicKeyEnv: "CLOSEDLOOP_SENDGRID_PUBLIC_KEY"}},
		{name: "set", yaml: "serve:\n  twilio_auth_token_env: TW_TOKEN\n  twilio_public_url: https://cx.example.com:8443/hooks/twilio?site=eu\n  sendgrid_public_key_env: SG_KEY\n  sendgrid_max_skew: 10m\n",
			want: webhooks{TwilioAuthTokenEnv: "TW_TOKEN", TwilioPublicURL: "https://cx.example.com:8443/hooks/twilio?site=eu",
				SendGridPublicKeyEnv: "SG_KEY", SendGridMaxSkew: Duration(10 * time.Minute)}},
		{name: "root path and no skew", yaml: "serve:\n  twilio_public_url: http://cx.example.com/\n  sendgrid_max_skew: 0s\n",
			want: webhooks{TwilioAuthTokenEnv: "CLOSEDLOOP_TWILIO_AUTH_TOKEN", TwilioPublicURL: "http://cx.example.com/", SendGridPublicKeyEnv: "CLOSEDLOOP_SENDGRID_PUBLIC_KEY"}},
		{name: "env name", yaml: "serve:\n  twilio_auth_token_env: $TWILIO\n",
			err: `closedloop.yaml: serve.twilio_auth_token_env: "$TWILIO" is not an environment variable name (line 2)`},
		{name: "sendgrid env name", yaml: "serve:\n  sendgrid_public_key_env: SENDGRID-KEY\n",
			err: `closedloop.yaml: serve.sendgrid_public_key_env: "SENDGRID-KEY" is not an environment variable name (line 2)`},
		{name: "relative URL", yaml: "serve:\n  twilio_public_url: /webhooks/twilio\n",
			err: `closedloop.yaml: serve.twilio_public_url: "/webhooks/twilio" is not an absolute http(s) URL like https://cx.example.com/webhooks/twilio (line 2)`},
		{name: "no scheme", yaml: "serve:\n  twilio_public_url: cx.example.com/webhooks/twilio\n",
			err: `closedloop.yaml: serve.twilio_public_url: "cx.example.com/webhooks/twilio" is not an absolute http(s) URL like https://cx.example.com/webhooks/twilio (line 2)`},
		{name: "other scheme", yaml: "serve:\n  twilio_public_url: ftp://cx.example.com/webhooks/twilio\n",
			err: `closedloop.yaml: serve.twilio_public_url: "ftp://cx.example.com/webhooks/twilio" is not an absolute http(s) URL like https://cx.example.com/webhooks/twilio (line 2)`},
		{name: "no path", yaml: "serve:\n  twilio_public_url: https://cx.example.com\n",
			err: `closedloop.yaml: serve.twilio_public_url: "https://cx.example.com" lacks the path: give the whole URL set in the Twilio console, like https://cx.example.com/webhooks/twilio (line 2)`},
		{name: "credentials", yaml: "serve:\n  twilio_public_url: https://u:p@cx.example.com/webhooks/twilio\n",
			err: `closedloop.yaml: serve.twilio_public_url: "https://u:p@cx.example.com/webhooks/twilio" must not carry credentials or a #fragment (Twilio signs neither) (line 2)`},
		{name: "negative skew", yaml: "serve:\n  sendgrid_max_skew: -5m\n",
			err: "closedloop.yaml: serve.sendgrid_max_skew: -5m0s is negative; use 0 to turn the check off (line 2)"},
		{name: "skew not a duration", yaml: "serve:\n  sendgrid_max_skew: 300\n",
			err: `closedloop.yaml: serve.sendgrid_max_skew: "300" is not a duration like 15m or 2h (line 2)`},
		{name: "misspelt key", yaml: "serve:\n  twilio_public_uri: https://cx.example.com/webhooks/twilio\n",
			err: "closedloop.yaml: serve.twilio_public_uri: unknown key; did you mean twilio_public_url? (line 2)"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := loadText(t, tt.yaml)
			if tt.err != "" {
				if err == nil || err.Error() != tt.err || !errors.Is(err, ErrInvalid) {
					t.Fatalf("error = %v\nwant    %s", err, tt.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			s := c.Serve
			got := webhooks{TwilioAuthTokenEnv: s.TwilioAuthTokenEnv, TwilioPublicURL: s.TwilioPublicURL,
				SendGridPublicKeyEnv: s.SendGridPublicKeyEnv, SendGridMaxSkew: s.SendGridMaxSkew}
			if got != tt.want {
				t.Errorf("serve = %+v\nwant    %+v", got, tt.want)
			}
		})
	}
}
