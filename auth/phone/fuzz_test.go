package phone_test

import (
	"strings"
	"testing"

	"github.com/gatehouse/gatehouse/auth/phone"
)

// FuzzParseNumber: any typed number is an E.164 number or refused.
func FuzzParseNumber(f *testing.F) {
	for _, seed := range []string{"+31 6 12345678", "0612345678", "", "+", strings.Repeat("9", 300), "+1 (555) 010-0000 ext. 7"} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, s string) {
		n, err := phone.ParseNumber(s, "NL")
		if err == nil && (!strings.HasPrefix(n, "+") || len(n) > 16 || strings.Trim(n[1:], "0123456789") != "") {
			t.Fatalf("%q parsed to %q, not E.164", s, n)
		}
	})
}
