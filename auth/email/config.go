package email

import (
	"crypto/tls"
	"errors"
	"fmt"
	"io/fs"
	"strings"
	"time"
)

// TLS modes of the SMTP connection.
const (
	TLSNone     = "none"     // plain SMTP (a relay on localhost)
	TLSStartTLS = "starttls" // STARTTLS required; the mail is not sent without it
	TLSImplicit = "tls"      // TLS from the first byte (SMTPS, port 465)
)

// Config holds the email method's settings. Start from Defaults; Validate
// names the setting that is wrong by its environment variable.
type Config struct {
	// Host is the SMTP server; the method exists only when it is set.
	// (GATEHOUSE_EMAIL_HOST)
	Host string
	// Port of the SMTP server; 0: 25 for none, 587 for starttls, 465 for
	// tls. (GATEHOUSE_EMAIL_PORT)
	Port int
	// TLS is TLSNone, TLSStartTLS (default) or TLSImplicit. (GATEHOUSE_EMAIL_TLS)
	TLS string
	// User and Password log in to the server (SMTP AUTH, the strongest
	// mechanism both sides know); empty User: no login. A password is
	// never sent without TLS. (GATEHOUSE_EMAIL_USER, GATEHOUSE_EMAIL_PASSWORD)
	User     string
	Password string
	// From is the sender, e.g. "Gatehouse <noreply@example.com>".
	// Required. (GATEHOUSE_EMAIL_FROM)
	From string
	// TokenValidity is how long a code stays good: at most 10 minutes
	// (NIST SP 800-63B). (GATEHOUSE_EMAIL_TOKEN_VALIDITY, default 300 s)
	TokenValidity time.Duration
	// Cooldown is the wait between two emails to one device (the "resend"
	// button); 0: none. (GATEHOUSE_EMAIL_COOLDOWN, default 60 s)
	Cooldown time.Duration
	// ThrottleFactor: after n consecutive wrong codes a device waits
	// factor*2^(n-1); 0 disables. (GATEHOUSE_EMAIL_THROTTLE_FACTOR, default 1 s)
	ThrottleFactor time.Duration
	// Send budgets against mail bombing through the login and setup forms;
	// 0 turns one off. Per user per hour (GATEHOUSE_EMAIL_MAX_PER_USER_HOUR,
	// default 10), per recipient address per day
	// (GATEHOUSE_EMAIL_MAX_PER_ADDRESS_DAY, default 20) and for the whole
	// site per hour (GATEHOUSE_EMAIL_MAX_PER_HOUR, default 1000).
	MaxPerUserHour   int
	MaxPerAddressDay int
	MaxPerHour       int
	// Timeout bounds connecting to and talking with the server (10 s).
	Timeout time.Duration
	// TLSConfig overrides the TLS settings (custom roots); nil: the
	// system's roots and the host name.
	TLSConfig *tls.Config
	// Templates, when set, overrides the email templates (code_subject.txt,
	// code_body.txt, code_body.html); otherwise files in "email/" of the
	// site's auth.Config.Templates do, over the embedded ones.
	Templates fs.FS
	// SiteName names the site in the email; empty: auth.Config.TOTPIssuer.
	SiteName string
}

// Defaults returns the seed's defaults: STARTTLS, codes valid 300 s,
// a 60 s resend cooldown, throttle factor 1 s.
func Defaults() Config {
	return Config{TLS: TLSStartTLS, TokenValidity: 300 * time.Second, Cooldown: 60 * time.Second,
		ThrottleFactor: time.Second, MaxPerUserHour: 10, MaxPerAddressDay: 20, MaxPerHour: 1000,
		Timeout: 10 * time.Second}
}

func (c Config) withDefaults() Config {
	if c.TLS == "" {
		c.TLS = TLSStartTLS
	}
	if c.Port == 0 {
		switch c.TLS {
		case TLSNone:
			c.Port = 25
		case TLSImplicit:
			c.Port = 465
		default:
			c.Port = 587
		}
	}
	if c.Timeout == 0 {
		c.Timeout = 10 * time.Second
	}
	return c
}

// Validate reports every wrong setting.
func (c Config) Validate() error {
	var errs []error
	if strings.TrimSpace(c.Host) == "" || strings.ContainsAny(c.Host, " /\t\r\n") {
		errs = append(errs, fmt.Errorf("GATEHOUSE_EMAIL_HOST: %q is not a host name", c.Host))
	}
	if c.Port < 0 || c.Port > 65535 {
		errs = append(errs, fmt.Errorf("GATEHOUSE_EMAIL_PORT: %d is not a port", c.Port))
	}
	switch c.TLS {
	case TLSNone, TLSStartTLS, TLSImplicit:
	default:
		errs = append(errs, fmt.Errorf("GATEHOUSE_EMAIL_TLS: %q must be none, starttls or tls", c.TLS))
	}
	if c.TLS == TLSNone && (c.User != "" || c.Password != "") {
		errs = append(errs, errors.New("GATEHOUSE_EMAIL_PASSWORD: refusing to send SMTP credentials without TLS; set GATEHOUSE_EMAIL_TLS to starttls or tls"))
	}
	if c.Password != "" && c.User == "" {
		errs = append(errs, errors.New("GATEHOUSE_EMAIL_USER: needed with GATEHOUSE_EMAIL_PASSWORD"))
	}
	if _, err := parseFrom(c.From); err != nil {
		errs = append(errs, fmt.Errorf("GATEHOUSE_EMAIL_FROM: %w", err))
	}
	if c.TokenValidity <= 0 || c.TokenValidity > 10*time.Minute {
		errs = append(errs, errors.New("GATEHOUSE_EMAIL_TOKEN_VALIDITY: must be more than 0 and at most 600 seconds"))
	}
	if c.Cooldown < 0 {
		errs = append(errs, errors.New("GATEHOUSE_EMAIL_COOLDOWN: must not be negative"))
	}
	if c.ThrottleFactor < 0 {
		errs = append(errs, errors.New("GATEHOUSE_EMAIL_THROTTLE_FACTOR: must not be negative"))
	}
	for _, b := range []struct {
		name string
		n    int
	}{{"GATEHOUSE_EMAIL_MAX_PER_USER_HOUR", c.MaxPerUserHour}, {"GATEHOUSE_EMAIL_MAX_PER_ADDRESS_DAY", c.MaxPerAddressDay}, {"GATEHOUSE_EMAIL_MAX_PER_HOUR", c.MaxPerHour}} {
		if b.n < 0 {
			errs = append(errs, fmt.Errorf("%s: must not be negative (0 turns it off)", b.name))
		}
	}
	if c.Timeout < 0 {
		errs = append(errs, errors.New("GATEHOUSE_EMAIL_TIMEOUT: must not be negative"))
	}
	return errors.Join(errs...)
}
