package main

import (
	"fmt"
	"net/http"
	"strconv"
	"strings"

	"github.com/gatehouse/gatehouse/auth"
)

// rememberConfig reads the seed's remember-cookie settings besides
// GATEHOUSE_REMEMBER_COOKIE_AGE (read with the other durations):
// GATEHOUSE_REMEMBER_COOKIE_PREFIX, _DOMAIN, _PATH, _SECURE, _HTTPONLY and
// _SAMESITE (Lax, Strict or None). A wrong value names its setting;
// auth.Config.Validate checks the rest.
func (e *env) rememberConfig(cfg *auth.Config) []error {
	var errs []error
	if v, ok := e.rememberSetting("GATEHOUSE_REMEMBER_COOKIE_PREFIX"); ok {
		cfg.RememberCookiePrefix = v
	}
	if v, ok := e.rememberSetting("GATEHOUSE_REMEMBER_COOKIE_DOMAIN"); ok {
		cfg.RememberCookieDomain = v
	}
	if v, ok := e.rememberSetting("GATEHOUSE_REMEMBER_COOKIE_PATH"); ok {
		cfg.RememberCookiePath = v
	}
	boolean := func(name string, dst *bool) {
		if v, ok := e.rememberSetting(name); ok {
			b, err := strconv.ParseBool(v)
			if err != nil {
				errs = append(errs, fmt.Errorf("%s: %q is not true or false", name, v))
				return
			}
			*dst = b
		}
	}
	boolean("GATEHOUSE_REMEMBER_COOKIE_SECURE", &cfg.RememberCookieSecure)
	httpOnly := !cfg.RememberCookieScriptAccess
	boolean("GATEHOUSE_REMEMBER_COOKIE_HTTPONLY", &httpOnly)
	cfg.RememberCookieScriptAccess = !httpOnly
	if v, ok := e.rememberSetting("GATEHOUSE_REMEMBER_COOKIE_SAMESITE"); ok {
		switch strings.ToLower(v) {
		case "lax":
			cfg.RememberCookieSameSite = http.SameSiteLaxMode
		case "strict":
			cfg.RememberCookieSameSite = http.SameSiteStrictMode
		case "none":
			cfg.RememberCookieSameSite = http.SameSiteNoneMode
		default:
			errs = append(errs, fmt.Errorf("GATEHOUSE_REMEMBER_COOKIE_SAMESITE: %q must be Lax, Strict or None", v))
		}
	}
	return errs
}

// rememberSetting returns a setting that is set and not blank.
func (e *env) rememberSetting(name string) (string, bool) {
	v := strings.TrimSpace(e.getenv(name))
	return v, v != ""
}
