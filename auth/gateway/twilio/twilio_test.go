package twilio_test

import (
	"context"
	"errors"
	"net/url"
	"strings"
	"testing"

	"github.com/gatehouse/gatehouse/auth/gateway/twilio"
	"github.com/gatehouse/gatehouse/auth/gateway/twilio/twiliotest"
	"github.com/gatehouse/gatehouse/auth/phone"
	"github.com/gatehouse/gatehouse/internal/locale"
	"github.com/gatehouse/gatehouse/locales"
)

const (
	sid   = "ACtest0123456789"
	token = "authtoken0123456789"
)

func valid() twilio.Config {
	return twilio.Config{AccountSID: sid, AuthToken: token, CallerID: "+15005550006",
		PublicURL: "https://gatehouse.example", SMS: true, Calls: true}
}

func TestConfigValidate(t *testing.T) {
	cases := []struct {
		name string
		edit func(*twilio.Config)
		want string // "" for valid
	}{
		{"valid", func(*twilio.Config) {}, ""},
		{"SMS by messaging service only", func(c *twilio.Config) { c.CallerID, c.Calls, c.MessagingServiceSID = "", false, "MG0123456789abcdef" }, ""},
		{"public URL with a path", func(c *twilio.Config) { c.PublicURL = "https://example.com/gatehouse/" }, ""},
		{"no account", func(c *twilio.Config) { c.AccountSID = "" }, "TWILIO_ACCOUNT_SID"},
		{"account not AC", func(c *twilio.Config) { c.AccountSID = "SK0123456789abcdef" }, "TWILIO_ACCOUNT_SID"},
		{"no token", func(c *twilio.Config) { c.AuthToken = "" }, "TWILIO_AUTH_TOKEN"},
		{"token with symbols", func(c *twilio.Config) { c.AuthToken = "abc:def/ghi!jkl" }, "TWILIO_AUTH_TOKEN"},
		{"bad messaging service", func(c *twilio.Config) { c.MessagingServiceSID = "PN123" }, "TWILIO_MESSAGING_SERVICE_SID"},
		{"SMS without sender", func(c *twilio.Config) { c.CallerID, c.Calls = "", false }, "TWILIO_CALLER_ID"},
		{"calls without caller", func(c *twilio.Config) { c.CallerID, c.MessagingServiceSID = "", "MG0123456789abcdef" }, "TWILIO_CALLER_ID"},
		{"caller not a number", func(c *twilio.Config) { c.CallerID = "Gatehouse" }, "TWILIO_CALLER_ID"},
		{"calls without public URL", func(c *twilio.Config) { c.PublicURL = "" }, "GATEHOUSE_PUBLIC_URL"},
		{"public URL relative", func(c *twilio.Config) { c.PublicURL = "/x" }, "GATEHOUSE_PUBLIC_URL"},
		{"public URL ftp", func(c *twilio.Config) { c.PublicURL = "ftp://example.com" }, "GATEHOUSE_PUBLIC_URL"},
		{"public URL with query", func(c *twilio.Config) { c.PublicURL = "https://example.com/?a=b" }, "GATEHOUSE_PUBLIC_URL"},
		{"public URL with user", func(c *twilio.Config) { c.PublicURL = "https://u:p@example.com" }, "GATEHOUSE_PUBLIC_URL"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			c := valid()
			tc.edit(&c)
			_, err := twilio.New(c)
			if (err == nil) != (tc.want == "") || (err != nil && !strings.Contains(err.Error(), tc.want)) {
				t.Fatalf("got %v, want an error naming %q", err, tc.want)
			}
		})
	}
}

// TestSign: the fake's signature follows Twilio's algorithm (the vector of
// twilio-go's own validator tests), so end-to-end tests sign as Twilio does.
func TestSign(t *testing.T) {
	params := url.Values{"Digits": {"1234"}, "CallSid": {"CA1234567890ABCDE"}, "To": {"+18005551212"},
		"Caller": {"+14158675309"}, "From": {"+14158675309"}, "ReasonConferenceEnded": {"test"}, "Reason": {"Participant"}}
	if got := twiliotest.Sign("12345", "https://mycompany.com/myapp.php?foo=1&bar=2", params); got != "vOEb5UThFn24KEfnOFLQY2AE5FY=" {
		t.Fatalf("Sign = %q", got)
	}
}

func TestCallbackURL(t *testing.T) {
	for _, base := range []string{"https://gatehouse.example", "https://gatehouse.example/"} {
		c := valid()
		c.PublicURL = base
		g, err := twilio.New(c)
		if err != nil {
			t.Fatal(err)
		}
		if got := g.CallbackURL("abc"); got != "https://gatehouse.example/twilio/inbound/two_factor/abc/" {
			t.Fatalf("CallbackURL with %q = %q", base, got)
		}
	}
}

// TestVoices: every language of the catalog has a voice; tags and base
// languages both map; a site may add its own.
func TestVoices(t *testing.T) {
	cat, err := locale.Load(locales.FS)
	if err != nil {
		t.Fatal(err)
	}
	c := valid()
	c.Voices = map[string]twilio.Voice{"fy": {Language: "nl-NL", Voice: "Polly.Lotte"}}
	g, _ := twilio.New(c)
	for _, l := range cat.Languages() {
		if _, ok := g.VoiceFor(l.Tag); !ok && !twilio.NoVoice[l.Tag] {
			t.Errorf("language %s has no Twilio voice: calls fall back to English", l.Tag)
		}
	}
	cases := []struct {
		tag, lang string
		ok        bool
	}{
		{"de", "de-DE", true}, {"de-AT", "de-DE", true}, {"en-GB", "en-GB", true}, {"pt-BR", "pt-BR", true},
		{"PT-br", "pt-BR", true}, {"fy", "nl-NL", true}, {"xx", "", false}, {"", "", false},
	}
	for _, tc := range cases {
		v, ok := g.VoiceFor(tc.tag)
		if ok != tc.ok || v.Language != tc.lang {
			t.Errorf("VoiceFor(%q) = %+v, %v", tc.tag, v, ok)
		}
	}
}

// TestAPIRequests: the real client against the fake API, with the
// account's credentials; a refused request is an error, not a panic.
func TestAPIRequests(t *testing.T) {
	api := twiliotest.New(t, sid, token)
	api.AutoAnswer(false)
	cat, _ := locale.Load(locales.FS)
	c := valid()
	c.HTTPClient = api.HTTPClient()
	g, err := twilio.New(c)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	if err := g.SendSMS(ctx, phone.Message{To: "+31101234567", Token: "123456", Lang: cat.Lang("de")}); err != nil {
		t.Fatal(err)
	}
	if err := g.MakeCall(ctx, phone.Call{Message: phone.Message{To: "+31101234567", Token: "123456", Lang: cat.Lang("en")}, ID: "the-id"}); err != nil {
		t.Fatal(err)
	}
	ms, calls := api.Messages(), api.Calls()
	if len(ms) != 1 || ms[0].Body != "Ihr Code lautet: 123456" || ms[0].From != "+15005550006" || ms[0].To != "+31101234567" {
		t.Fatalf("messages: %+v", ms)
	}
	if len(calls) != 1 || calls[0].URL != "https://gatehouse.example/twilio/inbound/two_factor/the-id/" || strings.Contains(calls[0].URL, "123456") {
		t.Fatalf("calls: %+v", calls)
	}
	if err := g.SendSMS(ctx, phone.Message{To: "+31101234567", Token: "1"}); err == nil {
		t.Fatalf("a message without a language was sent")
	}
	api.FailNext(400, 500)
	if err := g.SendSMS(ctx, phone.Message{To: "+31101234567", Token: "1", Lang: cat.Lang("en")}); err == nil {
		t.Fatalf("a refused message is no error")
	}
	if err := g.MakeCall(ctx, phone.Call{Message: phone.Message{To: "+31101234567", Token: "1", Lang: cat.Lang("en")}, ID: "x"}); err == nil {
		t.Fatalf("a failed call is no error")
	}
	// Wrong credentials are refused by the API.
	c.AuthToken = "otherToken0123456789"
	bad, _ := twilio.New(c)
	if err := bad.SendSMS(ctx, phone.Message{To: "+31101234567", Token: "1", Lang: cat.Lang("en")}); err == nil {
		t.Fatalf("the fake API accepted wrong credentials")
	}
	// The caller's context ends the request.
	done, cancel := context.WithCancel(ctx)
	cancel()
	if err := g.SendSMS(done, phone.Message{To: "+31101234567", Token: "1", Lang: cat.Lang("en")}); !errors.Is(err, context.Canceled) {
		t.Fatalf("a cancelled context: %v", err)
	}
}
