package phone

import (
	"errors"
	"strconv"
	"strings"

	"github.com/nyaruka/phonenumbers"

	"github.com/gatehouse/gatehouse/internal/locale"
)

// Errors of ParseNumber.
var (
	ErrNoNumber      = errors.New("phone: no number")
	ErrInvalidNumber = errors.New("phone: not a valid phone number")
)

// maxInput bounds what the parser is given; no phone number is longer.
const maxInput = 64

// ParseNumber parses s, a number as people type it, with region (ISO 3166,
// "NL") for numbers written without their country code, and returns it in
// E.164 ("+31101234567"). Numbers that are not valid for their region, and
// numbers with an extension (which E.164 cannot hold), are refused.
func ParseNumber(s, region string) (string, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return "", ErrNoNumber
	}
	if len(s) > maxInput {
		return "", ErrInvalidNumber
	}
	n, err := phonenumbers.Parse(s, strings.ToUpper(region))
	if err != nil || n.GetExtension() != "" || !phonenumbers.IsValidNumber(n) {
		return "", ErrInvalidNumber
	}
	return phonenumbers.Format(n, phonenumbers.E164), nil
}

// Region is the ISO 3166 region of an E.164 number ("NL"), "" when unknown.
func Region(e164 string) string {
	n, err := phonenumbers.Parse(e164, "")
	if err != nil {
		return ""
	}
	return phonenumbers.GetRegionCodeForNumber(n)
}

// CountryPrefix is the country calling code of an E.164 number ("+31"),
// the unit of the per-country send budget; "+" when unknown.
func CountryPrefix(e164 string) string {
	n, err := phonenumbers.Parse(e164, "")
	if err != nil {
		return "+"
	}
	return "+" + strconv.Itoa(int(n.GetCountryCode()))
}

// FormatNumber writes a number in international notation, as the seed's
// format_phone_number: "+31 10 123 4567". A string that does not parse is
// returned as it is.
func FormatNumber(number string) string {
	n, err := phonenumbers.Parse(number, "")
	if err != nil {
		return number
	}
	return phonenumbers.Format(n, phonenumbers.INTERNATIONAL)
}

// MaskNumber formats a number and masks it, as the seed's
// mask_phone_number: only the first three and the last two characters stay
// visible, every digit between them becomes '*': "+31 ** *** **67".
func MaskNumber(number string) string {
	r := []rune(FormatNumber(number))
	for i := 3; i < len(r)-2; i++ {
		if r[i] >= '0' && r[i] <= '9' {
			r[i] = '*'
		}
	}
	return string(r)
}

// isolate keeps a number left to right inside right-to-left text
// (U+2066 LEFT-TO-RIGHT ISOLATE ... U+2069 POP DIRECTIONAL ISOLATE), so
// Hebrew shows "+31 ** *** **67" and not "31+ ...".
func isolate(l *locale.Lang, s string) string {
	if l != nil && l.Dir == "rtl" {
		return "\u2066" + s + "\u2069"
	}
	return s
}

// ActionText is the text of the button that picks a phone at login, as the
// seed's device_action: "Send text message to +31 ** *** **67" for method
// "sms", "Call number +31 ** *** **67" for "call".
func ActionText(l *locale.Lang, method, number string) string {
	masked := isolate(l, MaskNumber(number))
	if method == MethodCall {
		return l.T("phone_action_call", "Number", masked)
	}
	return l.T("phone_action_sms", "Number", masked)
}

// DeviceAction is ActionText of a device (the seed's device_action); ""
// for no device.
func DeviceAction(l *locale.Lang, d *Device) string {
	if d == nil || l == nil {
		return ""
	}
	return ActionText(l, d.Method, d.Number)
}
