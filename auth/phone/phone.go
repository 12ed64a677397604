// Package phone adds the seed's phone second factors to Gatehouse: codes
// by text message (method "sms") and by voice call (method "call"), backup
// phones, and the seed's phone helpers (format_phone_number,
// mask_phone_number, device_action).
//
// What it gives:
//   - setup wizard steps "sms" and "call" (fields "sms-number" and
//     "call-number"), then the wizard's "validation" step
//     ("validation-token"); a method is there only when its gateway is set;
//   - at login every phone is an auth.Challenger: the code is sent when the
//     phone becomes the one asked for ("Send text message to +31 ** *** **67"),
//     and the token step offers to send it again;
//   - backup phones at /account/two_factor/phone/register/ (a wizard:
//     "setup" with setup-number and setup-method, then "validation") and
//     /account/two_factor/phone/unregister/<id>/ (POST), listed on the
//     account security page;
//   - a call gateway's callback (CallRouter), e.g. Twilio's TwiML at
//     /twilio/inbound/two_factor/<call-id>/.
//
// Numbers are parsed and validated with github.com/nyaruka/phonenumbers and
// stored in E.164. Each phone has its own key, sealed at rest with the site
// secret; a code is HOTP(key, counter) for a fresh counter, valid for
// Config.CodeValidity (at most 10 minutes) and accepted once: a conditional
// UPDATE moves a used-counter watermark, so of two requests with the same
// code exactly one wins, across instances. Wrong codes are throttled per
// phone by the auth service. Sending is gated by a cooldown per number and
// by budgets per user, number, country calling code and site, all kept in
// the database (SMS pumping, toll fraud).
package phone

import (
	"errors"
	"slices"

	"github.com/gatehouse/gatehouse/auth"
	"github.com/gatehouse/gatehouse/internal/locale"
)

// Method codes, which are also the setup steps and device key prefixes.
const (
	MethodSMS  = "sms"
	MethodCall = "call"
)

// Device names, as in the seed: the phone enrolled in the setup wizard is
// "default", the others are "backup".
const (
	NameDefault = "default"
	NameBackup  = "backup"
)

// Phones is the phone plugin of one auth.Service.
type Phones struct {
	s       *auth.Service
	cfg     Config
	methods []*Method // registered, "sms" before "call"
}

// New checks cfg and registers with s (before s.Migrate and s.Engine) the
// method "sms" when cfg.SMS is set and "call" when cfg.Call is set, the
// backup-phone pages, the phone block of the account security page and
// the template functions format_phone_number, mask_phone_number and
// device_action.
func New(s *auth.Service, cfg Config) (*Phones, error) {
	if s == nil {
		return nil, errors.New("phone: no auth service")
	}
	cfg = cfg.withDefaults()
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	p := &Phones{s: s, cfg: cfg}
	if cfg.SMS != nil {
		p.methods = append(p.methods, &Method{p: p, code: MethodSMS})
	}
	if cfg.Call != nil {
		p.methods = append(p.methods, &Method{p: p, code: MethodCall})
	}
	for _, m := range p.methods {
		s.Register(m)
	}
	s.AddProfileSection("phone", p.profileSection)
	s.Renderer().AddFuncs(TemplateFuncs())
	return p, nil
}

// Config returns the effective configuration.
func (p *Phones) Config() Config { return p.cfg }

// Enabled lists the method codes in use, "sms" before "call".
func (p *Phones) Enabled() []string {
	out := make([]string, len(p.methods))
	for i, m := range p.methods {
		out[i] = m.code
	}
	return out
}

func (p *Phones) enabled(code string) bool { return slices.Contains(p.Enabled(), code) }

func (p *Phones) method(code string) *Method {
	for _, m := range p.methods {
		if m.code == code {
			return m
		}
	}
	return nil
}

// TemplateFuncs are the seed's template tags as template functions:
// format_phone_number and mask_phone_number take a number;
// device_action takes the language (.Lang) and a *Device. New adds them to
// the service's renderer, for a site's own templates.
func TemplateFuncs() map[string]any {
	return map[string]any{
		"format_phone_number": FormatNumber,
		"mask_phone_number":   MaskNumber,
		"device_action":       DeviceAction,
	}
}

// methodName is a method's name in the user's language.
func methodName(l *locale.Lang, code string) string {
	if code == MethodCall {
		return l.T("phone_method_call")
	}
	return l.T("phone_method_sms")
}
