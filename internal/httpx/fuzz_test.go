package httpx

import (
	"net/http/httptest"
	"strings"
	"testing"
)

// FuzzRequestIDToken: an id is believed only as a plain token.
func FuzzRequestIDToken(f *testing.F) {
	for _, seed := range []string{"abc", "a b", "<x>", strings.Repeat("a", 64), strings.Repeat("a", 65), "", "ü"} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, s string) {
		if plainToken(s) && (len(s) > 64 || strings.ContainsAny(s, " <>\"'\r\n\x00")) {
			t.Fatalf("%q passed as a plain token", s)
		}
	})
}

// FuzzParseProxies: any list parses or is refused, never a panic; a parsed
// list answers the https question for any request.
func FuzzParseProxies(f *testing.F) {
	for _, seed := range []string{"127.0.0.1", "10.0.0.0/8,::1", "", "x", "300.1.1.1", "::ffff:1.2.3.4/128"} {
		f.Add(seed, "https")
	}
	f.Fuzz(func(t *testing.T, list, proto string) {
		p, err := ParseProxies(strings.Split(list, ","))
		if err != nil {
			return
		}
		r := httptest.NewRequest("GET", "/", nil)
		r.Header.Set("X-Forwarded-Proto", proto)
		_ = p.HTTPS(r)
	})
}
