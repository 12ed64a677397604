package auth

import (
	"encoding/base64"
	"strings"
	"testing"
)

// signedPayload is a value whose signature is right but whose payload is
// whatever the test says: only a bug or a leaked key could produce one.
func signedPayload(s *Service, p string) string {
	return base64.RawURLEncoding.EncodeToString([]byte(p)) + "." + base64.RawURLEncoding.EncodeToString(s.cookieMAC(purposeRemember, []byte(p)))
}

// keyOnly is a Service with only its keys: enough to sign and open.
func keyOnly(tb testing.TB) *Service {
	keys, err := newKeyring([]byte("0123456789abcdef0123456789abcdef"))
	if err != nil {
		tb.Fatal(err)
	}
	return &Service{cfg: Defaults(), keys: keys}
}

func TestOpenRememberStrict(t *testing.T) {
	s := keyOnly(t)
	good := rememberClaim{UserID: 7, Epoch: 3, Device: "generator/2", Expires: 1800000000}
	if cl, reason := s.openRemember(s.signRemember(good)); reason != "" || cl != good {
		t.Fatalf("round trip: %+v %q", cl, reason)
	}
	cases := []struct{ name, payload string }{
		{"version 2", "2|7|3|generator/2|1800000000"},
		{"user 0", "1|0|3|generator/2|1800000000"},
		{"negative user", "1|-7|3|generator/2|1800000000"},
		{"user overflows uint32", "1|4294967296|3|generator/2|1800000000"},
		{"epoch not a number", "1|7|x|generator/2|1800000000"},
		{"device key without id", "1|7|3|generator|1800000000"},
		{"device id with a leading zero", "1|7|3|generator/02|1800000000"},
		{"device id 0", "1|7|3|generator/0|1800000000"},
		{"expiry not a number", "1|7|3|generator/2|soon"},
		{"too few fields", "1|7|3|generator/2"},
		{"too many fields", "1|7|3|generator/2|1800000000|x"},
		{"NUL bytes", "1|7\x00|3|generator/2|1800000000"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if _, reason := s.openRemember(signedPayload(s, tc.payload)); reason != rememberMalformed {
				t.Fatalf("want malformed, got %q", reason)
			}
		})
	}
}

// FuzzOpenRemember: no input panics, and nothing but a value we signed
// opens.
func FuzzOpenRemember(f *testing.F) {
	s := keyOnly(f)
	valid := s.signRemember(rememberClaim{UserID: 1, Epoch: 1, Device: "generator/1", Expires: 1800000000})
	for _, seed := range []string{"", ".", "..", "a.b", valid, valid + "=", strings.ToUpper(valid), valid[1:], strings.Repeat("A", 2000)} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, v string) {
		cl, reason := s.openRemember(v)
		if reason == "" && v != valid && s.signRemember(cl) != v {
			t.Fatalf("a value we did not sign opened: %q -> %+v", v, cl)
		}
	})
}

// FuzzOpenDevice: no device cookie panics, and nothing but a value we
// signed opens.
func FuzzOpenDevice(f *testing.F) {
	s := keyOnly(f)
	valid := s.signCookie(purposeDevice, deviceClaim{UserID: 1, Username: "ana", Nonce: "n0nce", Expires: 1800000000}.payload())
	for _, seed := range []string{"", ".", "a.b", valid, valid[1:], valid + "x", strings.Repeat("A", 3000)} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, v string) {
		cl, ok := s.openDevice(v)
		if ok && v != valid && s.signCookie(purposeDevice, cl.payload()) != v {
			t.Fatalf("a value we did not sign opened: %q -> %+v", v, cl)
		}
	})
}

// FuzzCanonicalDigits: a token is accepted only as exactly n ASCII digits.
func FuzzCanonicalDigits(f *testing.F) {
	for _, seed := range []string{"123456", "123 456", "１２３４５６", "12345678", "", "12-34-56", "\x00123456"} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, token string) {
		for _, n := range []int{6, 8} {
			out, ok := CanonicalDigits(token, n)
			if !ok {
				continue
			}
			if len(out) != n || strings.Trim(out, "0123456789") != "" {
				t.Fatalf("%q accepted as %q for %d digits", token, out, n)
			}
		}
	})
}

// FuzzCanonicalBackup: a backup code is canonical or refused, never a panic.
func FuzzCanonicalBackup(f *testing.F) {
	for _, seed := range []string{"abcd efgh", "ABCDEFGH", "", "ａｂｃｄ", strings.Repeat("z", 100)} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, token string) {
		if out, ok := canonicalBackup(token); ok && strings.ContainsAny(out, " \t") {
			t.Fatalf("%q accepted with spaces: %q", token, out)
		}
	})
}
