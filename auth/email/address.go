package email

import (
	"errors"
	"net/mail"
	"strings"
	"unicode"
	"unicode/utf8"
)

// MaskEmail hides most of an address's local part, as the seed's
// mask_email: the first and last characters stay, the others become "*"
// ("bette@example.com" gives "b***e@example.com"). A local part of one or
// two characters keeps at most its first. The domain stays readable.
func MaskEmail(addr string) string {
	at := strings.LastIndexByte(addr, '@')
	if at < 0 {
		return strings.Repeat("*", utf8.RuneCountInString(addr))
	}
	local, domain := []rune(addr[:at]), addr[at:]
	switch n := len(local); {
	case n == 0:
		return addr
	case n == 1:
		return "*" + domain
	case n == 2:
		return string(local[0]) + "*" + domain
	default:
		return string(local[0]) + strings.Repeat("*", n-2) + string(local[n-1]) + domain
	}
}

// MaxAddress is the longest address accepted (RFC 5321's path limit).
const MaxAddress = 254

// ValidAddress reports whether s is a bare address codes may be sent to:
// what net/mail parses as exactly itself (no display name, comments or
// angle brackets), at most 254 bytes, a local part of at most 64, a
// domain with a dot, and nothing invisible.
func ValidAddress(s string) bool {
	if s == "" || len(s) > MaxAddress || !utf8.ValidString(s) {
		return false
	}
	for _, r := range s {
		if unicode.IsSpace(r) || unicode.IsControl(r) || !unicode.IsPrint(r) {
			return false
		}
	}
	a, err := mail.ParseAddress(s)
	if err != nil || a.Name != "" || a.Address != s {
		return false
	}
	at := strings.LastIndexByte(s, '@')
	local, domain := s[:at], s[at+1:]
	if len(local) == 0 || len(local) > 64 || strings.HasPrefix(local, `"`) {
		return false
	}
	if !strings.Contains(domain, ".") || strings.HasPrefix(domain, ".") || strings.HasSuffix(domain, ".") ||
		strings.Contains(domain, "..") || strings.HasPrefix(domain, "[") {
		return false
	}
	return true
}

// parseFrom checks the sender setting: an address, with a name or not.
func parseFrom(s string) (*mail.Address, error) {
	if strings.TrimSpace(s) == "" {
		return nil, errors.New("required: the sender address, e.g. \"Gatehouse <noreply@example.com>\"")
	}
	if strings.ContainsAny(s, "\r\n") {
		return nil, errors.New("must be one line")
	}
	a, err := mail.ParseAddress(s)
	if err != nil {
		return nil, errors.New("not an email address: " + err.Error())
	}
	return a, nil
}
