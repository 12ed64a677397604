package twilio

import (
	"strings"
	"testing"

	"github.com/gatehouse/gatehouse/auth/phone"
	"github.com/gatehouse/gatehouse/internal/locale"
	"github.com/gatehouse/gatehouse/locales"
)

// TestSpeakerFallback: a language Twilio has no voice for is spoken in
// English, words and voice alike; with no language at all the built-in
// English still speaks. Never a crash.
func TestSpeakerFallback(t *testing.T) {
	cat, err := locale.Load(locales.FS)
	if err != nil {
		t.Fatal(err)
	}
	g := &Gateway{}
	unvoiced := *cat.Lang("he") // Hebrew words under a tag without a voice
	unvoiced.Tag = "xx-YY"
	cases := []struct {
		name       string
		pc         *phone.PendingCall
		lang, text string
	}{
		{"voiced", &phone.PendingCall{Lang: cat.Lang("de"), Fallback: cat.Lang("en")}, "de-DE", "Ihr Code lautet 1. 2. 3"},
		{"no voice", &phone.PendingCall{Lang: &unvoiced, Fallback: cat.Lang("en")}, "en-US", "Your token is 1. 2. 3"},
		{"no language", &phone.PendingCall{Fallback: cat.Lang("en")}, "en-US", "Your token is 1. 2. 3"},
		{"nothing at all", &phone.PendingCall{}, "en-US", "Your token is 1. 2. 3"},
		{"no call", nil, "en-US", "Your token is 1. 2. 3"},
	}
	for _, tc := range cases {
		s := g.speaker(tc.pc)
		say := s.say(s.lang.T("phone_call_token", "Token", spell("123")))
		if say.Language != tc.lang || !strings.HasPrefix(say.Message, tc.text) {
			t.Errorf("%s: said %+v", tc.name, say)
		}
		for _, id := range []string{"phone_call_greeting", "phone_call_no_input", "phone_call_gone"} {
			if m := s.lang.T(id, "Site", "X"); m == "" || m == id {
				t.Errorf("%s: %s says %q", tc.name, id, m)
			}
		}
	}
}
