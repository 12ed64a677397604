package main

import (
	"errors"
	"fmt"
	"math"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/gatehouse/gatehouse/auth"
	"github.com/gatehouse/gatehouse/auth/webauthn"
)

func init() { plugins = append(plugins, configureWebAuthn) }

// webauthnSettings are the GATEHOUSE_WEBAUTHN_* settings besides the switch.
var webauthnSettings = []string{
	"GATEHOUSE_WEBAUTHN_RP_NAME", "GATEHOUSE_WEBAUTHN_RP_ID", "GATEHOUSE_WEBAUTHN_AUTHENTICATOR_ATTACHMENT",
	"GATEHOUSE_WEBAUTHN_PREFERRED_TRANSPORTS", "GATEHOUSE_WEBAUTHN_UV_REQUIREMENT", "GATEHOUSE_WEBAUTHN_ATTESTATION",
	"GATEHOUSE_WEBAUTHN_ROOT_CERTS", "GATEHOUSE_WEBAUTHN_THROTTLE_FACTOR", "GATEHOUSE_WEBAUTHN_PASSKEY_LOGIN",
}

// configureWebAuthn adds security keys and passkeys when
// GATEHOUSE_WEBAUTHN_ENABLED is true. The switch is explicit (rather than
// "on when an RP name is set") so that enabling the method without its
// required RP name fails at start, naming GATEHOUSE_WEBAUTHN_RP_NAME; and a
// WebAuthn setting given while the switch is unset fails too, instead of
// being silently ignored.
func configureWebAuthn(e *env, a *auth.Service) error {
	cfg, on, err := webauthnConfig(e)
	if err != nil || !on {
		return err
	}
	_, err = webauthn.New(a, cfg)
	return err
}

// webauthnConfig reads the settings; a wrong value names its setting.
func webauthnConfig(e *env) (webauthn.Config, bool, error) {
	cfg := webauthn.Defaults()
	switchVal := strings.TrimSpace(e.getenv("GATEHOUSE_WEBAUTHN_ENABLED"))
	if switchVal == "" {
		for _, n := range webauthnSettings {
			if e.getenv(n) != "" {
				return cfg, false, fmt.Errorf("%s is set but WebAuthn is not enabled: set GATEHOUSE_WEBAUTHN_ENABLED=true, or remove %s", n, n)
			}
		}
		return cfg, false, nil
	}
	on, err := strconv.ParseBool(switchVal)
	if err != nil {
		return cfg, false, fmt.Errorf("GATEHOUSE_WEBAUTHN_ENABLED: %q is not true or false", switchVal)
	}
	if !on {
		return cfg, false, nil
	}
	var errs []error
	cfg.RPName = strings.TrimSpace(e.getenv("GATEHOUSE_WEBAUTHN_RP_NAME"))
	cfg.RPID = strings.TrimSpace(e.getenv("GATEHOUSE_WEBAUTHN_RP_ID"))
	cfg.Attachment = strings.TrimSpace(e.getenv("GATEHOUSE_WEBAUTHN_AUTHENTICATOR_ATTACHMENT"))
	if v := e.getenv("GATEHOUSE_WEBAUTHN_PREFERRED_TRANSPORTS"); v != "" {
		for _, t := range strings.Split(v, ",") {
			if t = strings.TrimSpace(t); t != "" {
				cfg.PreferredTransports = append(cfg.PreferredTransports, t)
			}
		}
	}
	if v := strings.TrimSpace(e.getenv("GATEHOUSE_WEBAUTHN_UV_REQUIREMENT")); v != "" {
		cfg.UserVerification = v
	}
	if v := strings.TrimSpace(e.getenv("GATEHOUSE_WEBAUTHN_ATTESTATION")); v != "" {
		cfg.Attestation = v
	}
	if v := e.getenv("GATEHOUSE_WEBAUTHN_ROOT_CERTS"); v != "" {
		roots, err := readRootCerts(v)
		if err != nil {
			errs = append(errs, err)
		}
		cfg.RootCerts = roots
	}
	if v := strings.TrimSpace(e.getenv("GATEHOUSE_WEBAUTHN_THROTTLE_FACTOR")); v != "" {
		n, err := strconv.ParseFloat(v, 64)
		if err != nil || n < 0 || math.IsNaN(n) || n > maxSeconds {
			errs = append(errs, fmt.Errorf("GATEHOUSE_WEBAUTHN_THROTTLE_FACTOR: %q is not a number of seconds (0 disables)", v))
		} else {
			cfg.ThrottleFactor = time.Duration(n * float64(time.Second))
		}
	}
	if v := strings.TrimSpace(e.getenv("GATEHOUSE_WEBAUTHN_PASSKEY_LOGIN")); v != "" {
		b, err := strconv.ParseBool(v)
		if err != nil {
			errs = append(errs, fmt.Errorf("GATEHOUSE_WEBAUTHN_PASSKEY_LOGIN: %q is not true or false", v))
		}
		cfg.PasskeyLogin = b
	}
	if err := errors.Join(errs...); err != nil {
		return cfg, true, err
	}
	return cfg, true, cfg.Validate()
}

// readRootCerts reads "format=file.pem[,format=file.pem...]"; a file may
// hold several certificates, a format may be named more than once.
func readRootCerts(v string) (map[string][][]byte, error) {
	out := map[string][][]byte{}
	for _, part := range strings.Split(v, ",") {
		part = strings.TrimSpace(part)
		if part == "" {
			continue
		}
		format, path, ok := strings.Cut(part, "=")
		format, path = strings.TrimSpace(format), strings.TrimSpace(path)
		if !ok || format == "" || path == "" {
			return nil, fmt.Errorf("GATEHOUSE_WEBAUTHN_ROOT_CERTS: %q must be format=path.pem, e.g. packed=/etc/gatehouse/yubico.pem", part)
		}
		b, err := os.ReadFile(path)
		if err != nil {
			return nil, fmt.Errorf("GATEHOUSE_WEBAUTHN_ROOT_CERTS: %s: %w", format, err)
		}
		out[format] = append(out[format], b)
	}
	return out, nil
}
