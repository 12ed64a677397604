package httpx

import (
	"fmt"
	"net"
	"net/http"
	"net/netip"
	"strings"
)

// Proxies are the reverse proxies whose forwarding headers are believed.
// Gin applies the same list to X-Forwarded-For (gin.Engine.SetTrustedProxies);
// Proxies applies it to X-Forwarded-Proto, which Gin does not read.
type Proxies []netip.Prefix

// ParseProxies parses IP addresses and CIDR prefixes such as "10.0.0.1" or
// "10.0.0.0/8"; spaces around an entry are ignored, empty entries skipped.
func ParseProxies(list []string) (Proxies, error) {
	var out Proxies
	for _, s := range list {
		s = strings.TrimSpace(s)
		if s == "" {
			continue
		}
		if p, err := netip.ParsePrefix(s); err == nil {
			out = append(out, p.Masked())
		} else if a, err := netip.ParseAddr(s); err == nil {
			out = append(out, netip.PrefixFrom(a.Unmap(), a.Unmap().BitLen()))
		} else {
			return nil, fmt.Errorf("%q is not an IP address or CIDR prefix", s)
		}
	}
	return out, nil
}

// Strings returns the prefixes as text, for gin.Engine.SetTrustedProxies.
func (p Proxies) Strings() []string {
	out := make([]string, len(p))
	for i, pfx := range p {
		out[i] = pfx.String()
	}
	return out
}

// trusts reports whether the request came straight from a trusted proxy.
func (p Proxies) trusts(r *http.Request) bool {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return false
	}
	a, err := netip.ParseAddr(host)
	if err != nil {
		return false
	}
	for _, pfx := range p {
		if pfx.Contains(a.Unmap()) {
			return true
		}
	}
	return false
}

// HTTPS reports whether the browser used https: TLS to this server, or
// "X-Forwarded-Proto: https" from a trusted proxy. The header must hold
// that one value (the proxy sets it rather than appending to what the
// client sent); from anyone else it is ignored, so a client cannot make a
// plain-http request look secure, nor the other way round.
func (p Proxies) HTTPS(r *http.Request) bool {
	if r.TLS != nil {
		return true
	}
	v := r.Header.Values("X-Forwarded-Proto")
	return len(v) == 1 && strings.EqualFold(strings.TrimSpace(v[0]), "https") && p.trusts(r)
}
