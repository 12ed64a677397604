package main

import (
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
)

// TestPhoneSettings: the phone settings are read, and a wrong one names
// itself.
func TestPhoneSettings(t *testing.T) {
	const key = "0123456789abcdef0123456789abcdef-key"
	twilioOK := []string{"TWILIO_ACCOUNT_SID", "ACtest0123456789", "TWILIO_AUTH_TOKEN", "authtoken0123456789",
		"TWILIO_CALLER_ID", "+15005550006", "GATEHOUSE_PUBLIC_URL", "https://gatehouse.example"}
	cases := []struct {
		name string
		vars []string
		want string
	}{
		{"unknown SMS gateway", []string{"GATEHOUSE_SMS_GATEWAY", "carrier-pigeon"}, "GATEHOUSE_SMS_GATEWAY"},
		{"unknown call gateway", []string{"GATEHOUSE_CALL_GATEWAY", "telegraph"}, "GATEHOUSE_CALL_GATEWAY"},
		{"bad region", []string{"GATEHOUSE_SMS_GATEWAY", "fake", "GATEHOUSE_PHONENUMBER_DEFAULT_REGION", "Holland"}, "GATEHOUSE_PHONENUMBER_DEFAULT_REGION"},
		{"bad allowed countries", []string{"GATEHOUSE_SMS_GATEWAY", "fake", "GATEHOUSE_PHONE_ALLOWED_COUNTRIES", "NL,EU"}, "GATEHOUSE_PHONE_ALLOWED_COUNTRIES"},
		{"bad throttle factor", []string{"GATEHOUSE_SMS_GATEWAY", "fake", "GATEHOUSE_PHONE_THROTTLE_FACTOR", "fast"}, "GATEHOUSE_PHONE_THROTTLE_FACTOR"},
		{"validity over 10 minutes", []string{"GATEHOUSE_SMS_GATEWAY", "fake", "GATEHOUSE_PHONE_CODE_VALIDITY", "900"}, "GATEHOUSE_PHONE_CODE_VALIDITY"},
		{"bad cooldown", []string{"GATEHOUSE_SMS_GATEWAY", "fake", "GATEHOUSE_PHONE_SEND_COOLDOWN", "-5"}, "GATEHOUSE_PHONE_SEND_COOLDOWN"},
		{"bad limit", []string{"GATEHOUSE_SMS_GATEWAY", "fake", "GATEHOUSE_PHONE_LIMIT_PREFIX", "lots"}, "GATEHOUSE_PHONE_LIMIT_PREFIX"},
		{"twilio without account", []string{"GATEHOUSE_SMS_GATEWAY", "twilio"}, "TWILIO_ACCOUNT_SID"},
		{"twilio calls without public URL", append([]string{"GATEHOUSE_CALL_GATEWAY", "twilio", "GATEHOUSE_PUBLIC_URL", ""}, twilioOK[:6]...), "GATEHOUSE_PUBLIC_URL"},
		{"twilio calls with a bad public URL", append(append([]string{}, twilioOK...), "GATEHOUSE_CALL_GATEWAY", "twilio", "GATEHOUSE_PUBLIC_URL", "gatehouse.example"), "GATEHOUSE_PUBLIC_URL"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			r := newFixture(t).with("GATEHOUSE_SECRET_KEY", key).with(tc.vars...).run("", "migrate")
			if r.code != 1 || !strings.Contains(r.stderr, tc.want) {
				t.Fatalf("want exit 1 naming %s, got %d: %q", tc.want, r.code, r.stderr)
			}
		})
	}

	t.Run("valid", func(t *testing.T) {
		t.Parallel()
		f := newFixture(t).with("GATEHOUSE_SECRET_KEY", key, "GATEHOUSE_SMS_GATEWAY", "fake", "GATEHOUSE_CALL_GATEWAY", "Twilio",
			"GATEHOUSE_PHONENUMBER_DEFAULT_REGION", "nl", "GATEHOUSE_PHONE_ALLOWED_COUNTRIES", "NL, DE",
			"GATEHOUSE_PHONE_THROTTLE_FACTOR", "2", "GATEHOUSE_PHONE_LIMIT_GLOBAL", "500/24h").with(twilioOK...)
		f.mustRun("", "migrate")
		srv := httptest.NewServer(f.open().handler())
		defer srv.Close()
		hc := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
		// The backup phone pages exist (and want a verified user).
		res, err := hc.Get(srv.URL + "/account/two_factor/phone/register/")
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		if res.StatusCode != http.StatusSeeOther || !strings.HasPrefix(res.Header.Get("Location"), "/account/login/") {
			t.Fatalf("backup phone page: %d %q", res.StatusCode, res.Header.Get("Location"))
		}
		// The TwiML endpoint exists and wants Twilio's signature.
		res, err = hc.PostForm(srv.URL+"/twilio/inbound/two_factor/"+strings.Repeat("a", 43)+"/", url.Values{"CallSid": {"CA1"}})
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		if res.StatusCode != http.StatusForbidden {
			t.Fatalf("unsigned TwiML request: %d", res.StatusCode)
		}
	})

	t.Run("off by default", func(t *testing.T) {
		t.Parallel()
		f := newFixture(t).with("GATEHOUSE_SECRET_KEY", key)
		srv := httptest.NewServer(f.open().handler())
		defer srv.Close()
		res, err := http.Get(srv.URL + "/account/two_factor/phone/register/")
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		if res.StatusCode != http.StatusNotFound {
			t.Fatalf("backup phone page without a gateway: %d", res.StatusCode)
		}
	})
}
