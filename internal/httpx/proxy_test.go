package httpx

import (
	"crypto/tls"
	"net/http/httptest"
	"testing"
)

func TestProxiesHTTPS(t *testing.T) {
	trusted, err := ParseProxies([]string{" 10.0.0.1 ", "", "192.168.0.0/16", "fd00::/8"})
	if err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name   string
		remote string
		tls    bool
		proto  []string
		want   bool
	}{
		{"plain http", "203.0.113.9:1234", false, nil, false},
		{"direct TLS", "203.0.113.9:1234", true, nil, true},
		{"trusted address", "10.0.0.1:1234", false, []string{"https"}, true},
		{"trusted prefix, upper case", "192.168.4.5:1234", false, []string{"HTTPS"}, true},
		{"trusted IPv6 prefix", "[fd00::5]:1234", false, []string{"https"}, true},
		{"IPv4-mapped trusted address", "[::ffff:10.0.0.1]:1234", false, []string{"https"}, true},
		{"trusted proxy says http", "10.0.0.1:1234", false, []string{"http"}, false},
		{"untrusted client spoofs https", "203.0.113.9:1234", false, []string{"https"}, false},
		{"neighbour of a trusted address", "10.0.0.2:1234", false, []string{"https"}, false},
		{"appended list", "10.0.0.1:1234", false, []string{"https, http"}, false},
		{"two header lines", "10.0.0.1:1234", false, []string{"https", "https"}, false},
		{"no port in RemoteAddr", "10.0.0.1", false, []string{"https"}, false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			r := httptest.NewRequest("GET", "/", nil)
			r.RemoteAddr = tc.remote
			if tc.tls {
				r.TLS = &tls.ConnectionState{}
			}
			for _, v := range tc.proto {
				r.Header.Add("X-Forwarded-Proto", v)
			}
			if got := trusted.HTTPS(r); got != tc.want {
				t.Errorf("HTTPS: want %v, got %v", tc.want, got)
			}
		})
	}
}

func TestParseProxiesRefuses(t *testing.T) {
	for _, bad := range []string{"proxy.example", "10.0.0.1/33", "10.0.0.1:80"} {
		if _, err := ParseProxies([]string{bad}); err == nil {
			t.Errorf("%q: want an error", bad)
		}
	}
}
