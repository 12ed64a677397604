package yubikey_test

import (
	"strings"
	"testing"

	"github.com/gatehouse/gatehouse/auth/yubikey"
)

// FuzzParseOTP: any input parses to a well-formed OTP or is refused.
func FuzzParseOTP(f *testing.F) {
	for _, seed := range []string{"ccccccbchvthlivuitriujjifivbvtrjkjfirllluurfr", "", "cccc", strings.Repeat("c", 44), strings.Repeat("z", 48)} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, s string) {
		o, ok := yubikey.ParseOTP(s)
		if ok && (len(o.Token) != 32 || !strings.HasSuffix(o.Value, o.Token) || o.PublicID+o.Token != o.Value) {
			t.Fatalf("%q parsed inconsistently: %+v", s, o)
		}
	})
}

// FuzzParseResponse: any validation-service body parses or is refused.
func FuzzParseResponse(f *testing.F) {
	for _, seed := range []string{"h=abc\r\nt=2026\r\nstatus=OK\r\n", "", "=", "a=b=c\n", strings.Repeat("x=y\n", 100)} {
		f.Add([]byte(seed))
	}
	f.Fuzz(func(t *testing.T, body []byte) { _, _ = yubikey.ParseResponse(body) })
}
