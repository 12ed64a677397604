// Package httpx holds the HTTP plumbing every Gatehouse route shares:
// security headers, the redirect validator and the input guard.
package httpx

import (
	"net/url"
	"strings"
	"unicode"
)

// SafeRedirect reports whether target is a local path that is safe to
// redirect to, and returns it cleaned. It is the one validator for every
// redirect sink (next, logout, HX-Redirect): only same-host paths; no
// scheme, no host, no "//" or "/\" prefix, no control characters, no
// backslashes, before and after percent-decoding.
func SafeRedirect(target string) (string, bool) {
	if target == "" || len(target) > 2048 {
		return "", false
	}
	for _, s := range []string{target, decoded(target)} {
		if !safePath(s) {
			return "", false
		}
	}
	u, err := url.Parse(target)
	if err != nil || u.Scheme != "" || u.Host != "" || u.User != nil || u.Opaque != "" {
		return "", false
	}
	return target, true
}

func decoded(s string) string {
	for range 3 { // double and triple encoding
		d, err := url.PathUnescape(s)
		if err != nil || d == s {
			return d
		}
		s = d
	}
	return s
}

func safePath(s string) bool {
	if !strings.HasPrefix(s, "/") || strings.HasPrefix(s, "//") {
		return false
	}
	for _, r := range s {
		if r == '\\' || unicode.IsControl(r) || r == unicode.ReplacementChar || unicode.IsSpace(r) {
			return false
		}
	}
	return true
}

// RedirectOr returns target when it is safe, otherwise fallback.
func RedirectOr(target, fallback string) string {
	if t, ok := SafeRedirect(target); ok {
		return t
	}
	return fallback
}
