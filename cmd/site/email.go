package main

import (
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"

	"github.com/gatehouse/gatehouse/auth"
	"github.com/gatehouse/gatehouse/auth/email"
)

func init() { plugins = append(plugins, configureEmail) }

// configureEmail registers the email method when GATEHOUSE_EMAIL_HOST is
// set. Settings (durations in seconds):
//
//	GATEHOUSE_EMAIL_HOST             SMTP server; unset: no email method
//	GATEHOUSE_EMAIL_PORT             default 25 / 587 / 465 by GATEHOUSE_EMAIL_TLS
//	GATEHOUSE_EMAIL_TLS              none | starttls (default) | tls
//	GATEHOUSE_EMAIL_USER, _PASSWORD  SMTP login (never without TLS)
//	GATEHOUSE_EMAIL_FROM             sender, required: "Site <noreply@example.com>"
//	GATEHOUSE_EMAIL_TOKEN_VALIDITY   default 300, at most 600
//	GATEHOUSE_EMAIL_COOLDOWN         between two emails to one address, default 60
//	GATEHOUSE_EMAIL_THROTTLE_FACTOR  back-off after wrong codes, default 1; 0 disables
//	GATEHOUSE_EMAIL_MAX_PER_USER_HOUR, _MAX_PER_ADDRESS_DAY, _MAX_PER_HOUR
//	                                 send budgets, default 10, 20, 1000; 0 disables one
//
// The subject and bodies are the templates in templates/email, translated;
// a site overrides them with files of the same names.
func configureEmail(e *env, a *auth.Service) error {
	cfg, err := e.emailConfig()
	if err != nil || cfg == nil {
		return err
	}
	_, err = email.New(a, *cfg)
	return err
}

// emailConfig reads the GATEHOUSE_EMAIL_* settings; nil when the method
// is off. A wrong value names its setting.
func (e *env) emailConfig() (*email.Config, error) {
	host := strings.TrimSpace(e.getenv("GATEHOUSE_EMAIL_HOST"))
	if host == "" {
		return nil, nil
	}
	cfg := email.Defaults()
	cfg.Host = host
	cfg.User = e.getenv("GATEHOUSE_EMAIL_USER")
	cfg.Password = e.getenv("GATEHOUSE_EMAIL_PASSWORD")
	cfg.From = strings.TrimSpace(e.getenv("GATEHOUSE_EMAIL_FROM"))
	var errs []error
	if v := strings.TrimSpace(e.getenv("GATEHOUSE_EMAIL_TLS")); v != "" {
		cfg.TLS = strings.ToLower(v)
	}
	e.emailInt(&errs, "GATEHOUSE_EMAIL_PORT", &cfg.Port)
	e.emailSeconds(&errs, "GATEHOUSE_EMAIL_TOKEN_VALIDITY", &cfg.TokenValidity)
	e.emailSeconds(&errs, "GATEHOUSE_EMAIL_COOLDOWN", &cfg.Cooldown)
	e.emailSeconds(&errs, "GATEHOUSE_EMAIL_THROTTLE_FACTOR", &cfg.ThrottleFactor)
	e.emailInt(&errs, "GATEHOUSE_EMAIL_MAX_PER_USER_HOUR", &cfg.MaxPerUserHour)
	e.emailInt(&errs, "GATEHOUSE_EMAIL_MAX_PER_ADDRESS_DAY", &cfg.MaxPerAddressDay)
	e.emailInt(&errs, "GATEHOUSE_EMAIL_MAX_PER_HOUR", &cfg.MaxPerHour)
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	return &cfg, nil
}

// emailSeconds reads a setting in seconds (fractions allowed).
func (e *env) emailSeconds(errs *[]error, name string, dst *time.Duration) {
	v := strings.TrimSpace(e.getenv(name))
	if v == "" {
		return
	}
	n, err := strconv.ParseFloat(v, 64)
	if err != nil || n < 0 || math.IsNaN(n) || math.IsInf(n, 0) || n > maxSeconds {
		*errs = append(*errs, fmt.Errorf("%s: %q is not a number of seconds", name, v))
		return
	}
	*dst = time.Duration(n * float64(time.Second))
}

// emailInt reads a whole number setting.
func (e *env) emailInt(errs *[]error, name string, dst *int) {
	v := strings.TrimSpace(e.getenv(name))
	if v == "" {
		return
	}
	n, err := strconv.Atoi(v)
	if err != nil {
		*errs = append(*errs, fmt.Errorf("%s: %q is not a whole number", name, v))
		return
	}
	*dst = n
}
