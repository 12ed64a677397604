package auth

import (
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"net/http"
	"time"

	"github.com/gatehouse/gatehouse/internal/clock"
	"github.com/gatehouse/gatehouse/internal/httpx"
)

// Config holds the auth settings. Zero values take the seed's defaults
// (see Defaults); Validate names the setting that is wrong.
type Config struct {
	// SecretKey signs and encrypts: device keys at rest, backup-code hashes,
	// remember cookies. At least 32 bytes. (GATEHOUSE_SECRET_KEY)
	SecretKey []byte
	// LoginTimeout is how long a password step stays good for the second
	// step and for enrolment; 0 disables the limit. (GATEHOUSE_LOGIN_TIMEOUT, default 600 s)
	LoginTimeout time.Duration
	// TOTPDigits is 6 or 8 for new authenticator devices. (GATEHOUSE_TOTP_DIGITS)
	TOTPDigits int
	// TOTPIssuer names the site in authenticator apps.
	TOTPIssuer string
	// TOTPThrottleFactor and StaticThrottleFactor: after n consecutive
	// failures a device waits factor*2^(n-1). 0 disables. (default 1 s)
	TOTPThrottleFactor   time.Duration
	StaticThrottleFactor time.Duration
	// AccountFailureCap ends second-factor attempts after this many
	// consecutive failures across all of a user's devices (NIST: at most 100).
	AccountFailureCap int
	// PasswordUserFree and PasswordIPFree are the failed password attempts
	// allowed per username and per client IP before back-off starts.
	PasswordUserFree int
	PasswordIPFree   int
	// PasswordMaxDelay caps the password-step back-off.
	PasswordMaxDelay time.Duration
	// ReauthWindow is how long a second-factor verification keeps the
	// session in sudo mode: backup codes, adding or removing devices and
	// phones, disabling two-factor and changing the password need one at
	// most this old, else the user confirms a token first.
	// (GATEHOUSE_REAUTH_WINDOW, default 300 s)
	ReauthWindow time.Duration
	// DeviceCookieAge is how long a device cookie lasts: a browser where a
	// user completed a login keeps a password-step budget of its own for
	// that user, so nobody locks them out by guessing their name. 0 takes
	// the default; negative turns device cookies off.
	// (GATEHOUSE_DEVICE_COOKIE_AGE, default 180 days; 0 there turns them off)
	DeviceCookieAge time.Duration
	// EventRetention is how long security events are kept before Prune
	// deletes them. 0 takes the default; negative keeps them for good.
	// (GATEHOUSE_EVENT_RETENTION, default 90 days; 0 there keeps them)
	EventRetention time.Duration
	// SessionIdle and SessionAbsolute end sessions (30 min and 12 h).
	SessionIdle     time.Duration
	SessionAbsolute time.Duration
	// CookieSecure forces the Secure flag (and with it the session
	// cookie's __Host- prefix); both are set anyway on requests that came
	// over https, directly or through a trusted proxy. (GATEHOUSE_COOKIE_SECURE)
	CookieSecure bool
	// HSTSMaxAge is the max-age of the Strict-Transport-Security header
	// sent on https requests (directly or through a trusted proxy). Zero
	// takes the default, one year; a negative value sends no header.
	// (GATEHOUSE_HSTS_MAX_AGE in seconds, default 31536000; 0 there is off)
	HSTSMaxAge time.Duration
	// LoginURL, LoginRedirectURL and LogoutRedirectURL as in Django.
	LoginURL          string
	LoginRedirectURL  string
	LogoutRedirectURL string
	// BackupTokens is how many backup codes one generation makes (10).
	BackupTokens int
	// RememberCookieAge enables "remember this browser" when positive: the
	// token step offers a checkbox, and a browser that ticked it skips the
	// token step for this long. (GATEHOUSE_REMEMBER_COOKIE_AGE, off by default)
	RememberCookieAge time.Duration
	// RememberCookiePrefix starts the remember cookie's name; the rest is a
	// keyed hash of the user id, one cookie per user and browser.
	// (GATEHOUSE_REMEMBER_COOKIE_PREFIX, default "remember-cookie_")
	RememberCookiePrefix string
	// RememberCookieDomain is the cookie's Domain; empty: this host only.
	// (GATEHOUSE_REMEMBER_COOKIE_DOMAIN)
	RememberCookieDomain string
	// RememberCookiePath is the cookie's Path; it must cover the login URL.
	// (GATEHOUSE_REMEMBER_COOKIE_PATH, default "/")
	RememberCookiePath string
	// RememberCookieSecure forces the Secure flag; it is set anyway over TLS
	// or with CookieSecure. (GATEHOUSE_REMEMBER_COOKIE_SECURE, default false)
	RememberCookieSecure bool
	// RememberCookieScriptAccess drops the HttpOnly flag. It is the seed's
	// TWO_FACTOR_REMEMBER_COOKIE_HTTPONLY inverted, so the zero value is the
	// safe default. (GATEHOUSE_REMEMBER_COOKIE_HTTPONLY=false sets it)
	RememberCookieScriptAccess bool
	// RememberCookieSameSite is the cookie's SameSite: Lax (the default,
	// also for the zero value), Strict, or None (needs a Secure cookie).
	// (GATEHOUSE_REMEMBER_COOKIE_SAMESITE)
	RememberCookieSameSite http.SameSite
	// Templates, when set, overlays the embedded templates: a site puts its
	// own files with the same names there.
	Templates fs.FS
	// Dev reloads templates and locale files on each request.
	Dev bool
	// Logger receives every log line of the site's requests (access log,
	// refusals, errors); nil means slog.Default() at the time of logging.
	// Tests inject one to assert what is, and is not, logged.
	Logger *slog.Logger
	// Clock is the time source; tests inject a fake one.
	Clock clock.Clock
	// SessionBackend keeps sessions; nil means the database.
	SessionBackend SessionBackend
	// TrustedProxies lists the reverse proxies (IP addresses or CIDR
	// prefixes) whose X-Forwarded-For and X-Forwarded-Proto are believed;
	// none by default. (GATEHOUSE_TRUSTED_PROXIES, comma-separated)
	TrustedProxies []string
}

// DefaultHSTSMaxAge is one year, the max-age HSTS preload lists ask for.
const DefaultHSTSMaxAge = 365 * 24 * time.Hour

// Defaults returns the seed's defaults.
func Defaults() Config {
	return Config{
		LoginTimeout:           600 * time.Second,
		TOTPDigits:             6,
		TOTPIssuer:             "Gatehouse",
		TOTPThrottleFactor:     time.Second,
		StaticThrottleFactor:   time.Second,
		AccountFailureCap:      100,
		PasswordUserFree:       5,
		PasswordIPFree:         50,
		PasswordMaxDelay:       15 * time.Minute,
		ReauthWindow:           300 * time.Second,
		DeviceCookieAge:        180 * 24 * time.Hour,
		EventRetention:         90 * 24 * time.Hour,
		SessionIdle:            30 * time.Minute,
		SessionAbsolute:        12 * time.Hour,
		HSTSMaxAge:             DefaultHSTSMaxAge,
		LoginURL:               "/account/login/",
		LoginRedirectURL:       "/account/two_factor/",
		LogoutRedirectURL:      "/account/login/",
		BackupTokens:           10,
		RememberCookiePrefix:   "remember-cookie_",
		RememberCookiePath:     "/",
		RememberCookieSameSite: http.SameSiteLaxMode,
		Clock:                  clock.System{},
	}
}

// withDefaults fills zero fields from Defaults.
func (c Config) withDefaults() Config {
	d := Defaults()
	if c.TOTPDigits == 0 {
		c.TOTPDigits = d.TOTPDigits
	}
	if c.TOTPIssuer == "" {
		c.TOTPIssuer = d.TOTPIssuer
	}
	if c.AccountFailureCap == 0 {
		c.AccountFailureCap = d.AccountFailureCap
	}
	if c.PasswordUserFree == 0 {
		c.PasswordUserFree = d.PasswordUserFree
	}
	if c.PasswordIPFree == 0 {
		c.PasswordIPFree = d.PasswordIPFree
	}
	if c.PasswordMaxDelay == 0 {
		c.PasswordMaxDelay = d.PasswordMaxDelay
	}
	if c.ReauthWindow == 0 {
		c.ReauthWindow = d.ReauthWindow
	}
	if c.DeviceCookieAge == 0 {
		c.DeviceCookieAge = d.DeviceCookieAge
	}
	if c.EventRetention == 0 {
		c.EventRetention = d.EventRetention
	}
	if c.SessionIdle == 0 {
		c.SessionIdle = d.SessionIdle
	}
	if c.SessionAbsolute == 0 {
		c.SessionAbsolute = d.SessionAbsolute
	}
	if c.LoginURL == "" {
		c.LoginURL = d.LoginURL
	}
	if c.LoginRedirectURL == "" {
		c.LoginRedirectURL = d.LoginRedirectURL
	}
	if c.LogoutRedirectURL == "" {
		c.LogoutRedirectURL = d.LogoutRedirectURL
	}
	if c.BackupTokens == 0 {
		c.BackupTokens = d.BackupTokens
	}
	if c.RememberCookiePrefix == "" {
		c.RememberCookiePrefix = d.RememberCookiePrefix
	}
	if c.RememberCookiePath == "" {
		c.RememberCookiePath = d.RememberCookiePath
	}
	if c.RememberCookieSameSite == 0 || c.RememberCookieSameSite == http.SameSiteDefaultMode {
		c.RememberCookieSameSite = http.SameSiteLaxMode
	}
	if c.Clock == nil {
		c.Clock = d.Clock
	}
	if c.HSTSMaxAge == 0 {
		c.HSTSMaxAge = d.HSTSMaxAge
	}
	return c
}

// Validate reports the first wrong setting by its environment name.
func (c Config) Validate() error {
	var errs []error
	if len(c.SecretKey) < 32 {
		errs = append(errs, errors.New("GATEHOUSE_SECRET_KEY: must be at least 32 bytes"))
	}
	if c.TOTPDigits != 6 && c.TOTPDigits != 8 {
		errs = append(errs, fmt.Errorf("GATEHOUSE_TOTP_DIGITS: must be 6 or 8, not %d", c.TOTPDigits))
	}
	if c.LoginTimeout < 0 {
		errs = append(errs, errors.New("GATEHOUSE_LOGIN_TIMEOUT: must be 0 (off) or a positive number of seconds"))
	}
	if c.TOTPThrottleFactor < 0 {
		errs = append(errs, errors.New("GATEHOUSE_TOTP_THROTTLE_FACTOR: must not be negative"))
	}
	if c.StaticThrottleFactor < 0 {
		errs = append(errs, errors.New("GATEHOUSE_STATIC_THROTTLE_FACTOR: must not be negative"))
	}
	if c.AccountFailureCap < 1 || c.AccountFailureCap > 100 {
		errs = append(errs, errors.New("GATEHOUSE_ACCOUNT_FAILURE_CAP: must be between 1 and 100"))
	}
	if c.ReauthWindow < 0 {
		errs = append(errs, errors.New("GATEHOUSE_REAUTH_WINDOW: must be a positive number of seconds"))
	}
	if c.SessionIdle > c.SessionAbsolute {
		errs = append(errs, errors.New("GATEHOUSE_SESSION_IDLE: must not exceed GATEHOUSE_SESSION_ABSOLUTE"))
	}
	if c.RememberCookieAge < 0 {
		errs = append(errs, errors.New("GATEHOUSE_REMEMBER_COOKIE_AGE: must not be negative"))
	}
	if c.DeviceCookieAge > 0 && c.DeviceCookieAge < time.Hour {
		errs = append(errs, errors.New("GATEHOUSE_DEVICE_COOKIE_AGE: must be 0 (off) or at least 3600 seconds"))
	}
	if c.EventRetention > 0 && c.EventRetention < 24*time.Hour {
		errs = append(errs, errors.New("GATEHOUSE_EVENT_RETENTION: must be 0 (keep for good) or at least 86400 seconds"))
	}
	if _, err := httpx.ParseProxies(c.TrustedProxies); err != nil {
		errs = append(errs, fmt.Errorf("GATEHOUSE_TRUSTED_PROXIES: %w", err))
	}
	errs = append(errs, c.validateRemember()...)
	return errors.Join(errs...)
}
