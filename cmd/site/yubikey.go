package main

import (
	"errors"
	"net/url"
	"strings"

	"github.com/gatehouse/gatehouse/auth"
	"github.com/gatehouse/gatehouse/auth/yubikey"
)

func init() { plugins = append(plugins, configureYubikey) }

// configureYubikey registers the YubiKey method when GATEHOUSE_YUBIKEY is
// set. Settings:
//
//	GATEHOUSE_YUBIKEY                  remote: the setup wizard enrols any key the
//	                                   "default" validation service accepts;
//	                                   local: it enrols keys an administrator
//	                                   registered with their AES key. Unset: no
//	                                   YubiKey method.
//	GATEHOUSE_YUBIKEY_THROTTLE_FACTOR  back-off after failures, seconds, default 1; 0 disables
//	GATEHOUSE_YUBIKEY_API_ID           } values of the "default" validation service when
//	GATEHOUSE_YUBIKEY_API_KEY          } migrate creates it (YubiCloud unless _URL says
//	GATEHOUSE_YUBIKEY_URL              } otherwise); later edits go through the admin.
//	                                   The key is base64 as Yubico issues it; without
//	                                   one the URL must be https.
func configureYubikey(e *env, a *auth.Service) error {
	cfg, err := e.yubikeyConfig()
	if err != nil || cfg == nil {
		return err
	}
	_, err = yubikey.New(a, *cfg)
	return err
}

// yubikeyConfig reads the GATEHOUSE_YUBIKEY* settings; nil when the method
// is off. A wrong value names its setting.
func (e *env) yubikeyConfig() (*yubikey.Config, error) {
	mode := strings.ToLower(strings.TrimSpace(e.getenv("GATEHOUSE_YUBIKEY")))
	if mode == "" {
		return nil, nil
	}
	cfg := yubikey.Defaults()
	cfg.Mode = mode
	var errs []error
	e.emailSeconds(&errs, "GATEHOUSE_YUBIKEY_THROTTLE_FACTOR", &cfg.ThrottleFactor)
	cfg.Service.APIID = strings.TrimSpace(e.getenv("GATEHOUSE_YUBIKEY_API_ID"))
	if v := strings.TrimSpace(e.getenv("GATEHOUSE_YUBIKEY_API_KEY")); v != "" {
		key, err := yubikey.DecodeAPIKey(v)
		if err != nil {
			errs = append(errs, errors.New("GATEHOUSE_YUBIKEY_API_KEY: not base64"))
		}
		cfg.Service.APIKey = key
	}
	if v := strings.TrimSpace(e.getenv("GATEHOUSE_YUBIKEY_URL")); v != "" {
		cfg.Service.URL = v
		// An explicit http URL (a yubikey-val on the local network) is
		// allowed with an API key: the signatures protect the answers.
		if u, err := url.Parse(v); err == nil && u.Scheme == "http" {
			cfg.Service.UseHTTPS = false
		}
	}
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	return &cfg, nil
}
