package webauthn

import (
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/go-webauthn/webauthn/protocol"
)

// Config holds the seed's WebAuthn settings (TWO_FACTOR_WEBAUTHN_*). Start
// from Defaults; Validate names the setting that is wrong by its
// environment variable.
type Config struct {
	// RPName is the relying party's human-palatable name, shown by
	// authenticators. Required. (GATEHOUSE_WEBAUTHN_RP_NAME)
	RPName string
	// RPID is the relying party id, a registrable domain such as
	// "example.com". Empty: the host of each request, without its port.
	// When set, requests must come to that host or a subdomain of it.
	// (GATEHOUSE_WEBAUTHN_RP_ID)
	RPID string
	// Attachment restricts authenticators: "platform", "cross-platform", or
	// "" for both. (GATEHOUSE_WEBAUTHN_AUTHENTICATOR_ATTACHMENT)
	Attachment string
	// PreferredTransports, when set, replaces the transports of every
	// credential in allow and exclude lists ("usb", "nfc", "ble",
	// "smart-card", "hybrid", "internal"). (GATEHOUSE_WEBAUTHN_PREFERRED_TRANSPORTS)
	PreferredTransports []string
	// UserVerification is "discouraged" (default), "preferred" or
	// "required"; "required" refuses assertions and registrations without
	// the UV flag. (GATEHOUSE_WEBAUTHN_UV_REQUIREMENT)
	UserVerification string
	// Attestation is the conveyance preference: "none" (default),
	// "indirect" or "direct". "enterprise" is not supported.
	// (GATEHOUSE_WEBAUTHN_ATTESTATION)
	Attestation string
	// RootCerts are extra attestation root certificates (PEM) per
	// attestation statement format ("packed", "fido-u2f", "tpm", ...). When
	// Attestation is not "none" and a format has roots, a registration in
	// that format must carry a certificate chain to one of them; a format
	// without roots passes, as in the seed. (GATEHOUSE_WEBAUTHN_ROOT_CERTS)
	RootCerts map[string][][]byte
	// ThrottleFactor: after n consecutive failures the user's keys wait
	// factor*2^(n-1); 0 disables. (GATEHOUSE_WEBAUTHN_THROTTLE_FACTOR, default 1 s)
	ThrottleFactor time.Duration
	// PasskeyLogin offers "Sign in with a passkey" on the login page: a
	// discoverable credential with user verification satisfies both
	// factors. Off by default. (GATEHOUSE_WEBAUTHN_PASSKEY_LOGIN)
	PasskeyLogin bool
}

// Defaults returns the seed's defaults; RPName must still be set.
func Defaults() Config {
	return Config{UserVerification: "discouraged", Attestation: "none", ThrottleFactor: time.Second}
}

func (c Config) withDefaults() Config {
	if c.UserVerification == "" {
		c.UserVerification = "discouraged"
	}
	if c.Attestation == "" {
		c.Attestation = "none"
	}
	return c
}

var (
	attachments = []string{"", "platform", "cross-platform"}
	transports  = []string{"usb", "nfc", "ble", "smart-card", "hybrid", "internal"}
	uvLevels    = []string{"discouraged", "preferred", "required"}
	conveyances = []string{"none", "indirect", "direct"}
	// attestationFormats are the statement formats go-webauthn verifies.
	attestationFormats = []string{"packed", "tpm", "android-key", "android-safetynet", "fido-u2f", "apple"}
)

// Validate reports every wrong setting by its environment name.
func (c Config) Validate() error {
	c = c.withDefaults()
	var errs []error
	if strings.TrimSpace(c.RPName) == "" {
		errs = append(errs, errors.New("GATEHOUSE_WEBAUTHN_RP_NAME: required when WebAuthn is enabled: the site's name as security keys and passkeys show it"))
	}
	if c.RPID != "" {
		if strings.ContainsAny(c.RPID, ":/") || strings.ToLower(c.RPID) != c.RPID {
			errs = append(errs, fmt.Errorf("GATEHOUSE_WEBAUTHN_RP_ID: %q must be a lower-case domain without scheme or port, e.g. example.com", c.RPID))
		} else if err := protocol.ValidateRPID(c.RPID); err != nil {
			errs = append(errs, fmt.Errorf("GATEHOUSE_WEBAUTHN_RP_ID: %q is not a valid domain: %v", c.RPID, err))
		}
	}
	if !slices.Contains(attachments, c.Attachment) {
		errs = append(errs, fmt.Errorf("GATEHOUSE_WEBAUTHN_AUTHENTICATOR_ATTACHMENT: %q must be platform, cross-platform or empty", c.Attachment))
	}
	for _, t := range c.PreferredTransports {
		if !slices.Contains(transports, t) {
			errs = append(errs, fmt.Errorf("GATEHOUSE_WEBAUTHN_PREFERRED_TRANSPORTS: %q is not one of %s", t, strings.Join(transports, ", ")))
		}
	}
	if !slices.Contains(uvLevels, c.UserVerification) {
		errs = append(errs, fmt.Errorf("GATEHOUSE_WEBAUTHN_UV_REQUIREMENT: %q must be discouraged, preferred or required", c.UserVerification))
	}
	switch {
	case c.Attestation == "enterprise":
		errs = append(errs, errors.New("GATEHOUSE_WEBAUTHN_ATTESTATION: enterprise attestation is not supported; use none, indirect or direct"))
	case !slices.Contains(conveyances, c.Attestation):
		errs = append(errs, fmt.Errorf("GATEHOUSE_WEBAUTHN_ATTESTATION: %q must be none, indirect or direct", c.Attestation))
	}
	formats := make([]string, 0, len(c.RootCerts))
	for f := range c.RootCerts {
		formats = append(formats, f)
	}
	sort.Strings(formats)
	for _, f := range formats {
		if !slices.Contains(attestationFormats, f) {
			errs = append(errs, fmt.Errorf("GATEHOUSE_WEBAUTHN_ROOT_CERTS: %q is not an attestation format (%s)", f, strings.Join(attestationFormats, ", ")))
			continue
		}
		if _, err := parseRoots(c.RootCerts[f]); err != nil {
			errs = append(errs, fmt.Errorf("GATEHOUSE_WEBAUTHN_ROOT_CERTS: %s: %v", f, err))
		}
	}
	if c.ThrottleFactor < 0 {
		errs = append(errs, errors.New("GATEHOUSE_WEBAUTHN_THROTTLE_FACTOR: must not be negative"))
	}
	return errors.Join(errs...)
}

// parseRoots reads PEM certificates; each entry may hold several.
func parseRoots(pems [][]byte) ([]*x509.Certificate, error) {
	var out []*x509.Certificate
	for _, p := range pems {
		rest := p
		n := 0
		for {
			var block *pem.Block
			block, rest = pem.Decode(rest)
			if block == nil {
				break
			}
			if block.Type != "CERTIFICATE" {
				continue
			}
			cert, err := x509.ParseCertificate(block.Bytes)
			if err != nil {
				return nil, fmt.Errorf("bad certificate: %v", err)
			}
			out = append(out, cert)
			n++
		}
		if n == 0 {
			return nil, errors.New("no PEM CERTIFICATE block")
		}
	}
	return out, nil
}
