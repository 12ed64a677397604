package yubikey

import (
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"time"
)

// Setup modes: how the setup wizard enrols a YubiKey.
const (
	// ModeRemote enrols any YubiKey whose OTP the "default" validation
	// service accepts (YubiCloud by default).
	ModeRemote = "remote"
	// ModeLocal enrols a key an administrator registered for the user
	// with its AES key (Method.AddLocal): the OTP proves possession.
	ModeLocal = "local"
)

// Config holds the YubiKey settings. Start from Defaults; Validate names
// the setting that is wrong by its environment variable.
type Config struct {
	// Mode is ModeRemote or ModeLocal. (GATEHOUSE_YUBIKEY=remote|local;
	// unset: no YubiKey method)
	Mode string
	// ThrottleFactor: after n consecutive failures a YubiKey waits
	// factor*2^(n-1); 0 disables. (GATEHOUSE_YUBIKEY_THROTTLE_FACTOR, default 1 s)
	ThrottleFactor time.Duration
	// Service is used once: to create the "default" validation service at
	// migrate when it does not exist. Later changes go through the admin.
	Service ServiceDefaults
	// HTTPClient talks to validation services; nil: a client with a 10 s
	// timeout and the system's certificate roots.
	HTTPClient *http.Client
}

// ServiceDefaults are the "default" validation service's first values.
type ServiceDefaults struct {
	// APIID is the client id. (GATEHOUSE_YUBIKEY_API_ID)
	APIID string
	// APIKey is the decoded HMAC key; nil: unsigned requests over https.
	// (GATEHOUSE_YUBIKEY_API_KEY, base64 as Yubico issues it)
	APIKey []byte
	// URL is the verify endpoint; empty: YubiCloudURL. (GATEHOUSE_YUBIKEY_URL)
	URL string
	// UseHTTPS refuses http URLs even with an API key. Defaults sets it.
	UseHTTPS bool
}

// Defaults returns the seed's defaults: remote validation through
// YubiCloud over https, throttle factor 1 s.
func Defaults() Config {
	return Config{Mode: ModeRemote, ThrottleFactor: time.Second, Service: ServiceDefaults{URL: YubiCloudURL, UseHTTPS: true}}
}

// Validate reports every wrong setting.
func (c Config) Validate() error {
	var errs []error
	if c.Mode != ModeRemote && c.Mode != ModeLocal {
		errs = append(errs, fmt.Errorf("GATEHOUSE_YUBIKEY: %q must be remote or local", c.Mode))
	}
	if c.ThrottleFactor < 0 {
		errs = append(errs, errors.New("GATEHOUSE_YUBIKEY_THROTTLE_FACTOR: must not be negative"))
	}
	if len(c.Service.APIID) > 32 {
		errs = append(errs, errors.New("GATEHOUSE_YUBIKEY_API_ID: at most 32 characters"))
	}
	if c.Service.URL != "" {
		if err := checkURL(c.Service.URL); err != nil {
			errs = append(errs, fmt.Errorf("GATEHOUSE_YUBIKEY_URL: %w", err))
		} else if u, _ := url.Parse(c.Service.URL); u.Scheme != "https" && (len(c.Service.APIKey) == 0 || c.Service.UseHTTPS) {
			errs = append(errs, errors.New("GATEHOUSE_YUBIKEY_URL: must be https (without GATEHOUSE_YUBIKEY_API_KEY only https protects the answers)"))
		}
	}
	return errors.Join(errs...)
}
