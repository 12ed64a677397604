package webauthn_test

import (
	"strings"
	"testing"
	"time"

	"github.com/gatehouse/gatehouse/auth"
	"github.com/gatehouse/gatehouse/auth/authtest"
	"github.com/gatehouse/gatehouse/auth/webauthn"
)

// TestConfigValidate: every wrong setting is named by its variable.
func TestConfigValidate(t *testing.T) {
	caPEM, _, _ := newCA(t, "Test Root")
	cases := []struct {
		name   string
		adjust func(*webauthn.Config)
		want   string // "" = valid
	}{
		{"defaults with a name", nil, ""},
		{"everything set", func(c *webauthn.Config) {
			c.RPID, c.Attachment, c.UserVerification, c.Attestation = "example.com", "platform", "preferred", "indirect"
			c.PreferredTransports = []string{"usb", "nfc", "ble", "smart-card", "hybrid", "internal"}
			c.RootCerts = map[string][][]byte{"packed": {caPEM}, "fido-u2f": {caPEM, caPEM}}
			c.ThrottleFactor, c.PasskeyLogin = 0, true
		}, ""},
		{"no RP name", func(c *webauthn.Config) { c.RPName = " " }, "GATEHOUSE_WEBAUTHN_RP_NAME"},
		{"RP ID with scheme", func(c *webauthn.Config) { c.RPID = "https://example.com" }, "GATEHOUSE_WEBAUTHN_RP_ID"},
		{"RP ID with port", func(c *webauthn.Config) { c.RPID = "example.com:443" }, "GATEHOUSE_WEBAUTHN_RP_ID"},
		{"RP ID an IP", func(c *webauthn.Config) { c.RPID = "192.0.2.1" }, "GATEHOUSE_WEBAUTHN_RP_ID"},
		{"RP ID upper case", func(c *webauthn.Config) { c.RPID = "Example.com" }, "GATEHOUSE_WEBAUTHN_RP_ID"},
		{"attachment", func(c *webauthn.Config) { c.Attachment = "usb" }, "GATEHOUSE_WEBAUTHN_AUTHENTICATOR_ATTACHMENT"},
		{"transport", func(c *webauthn.Config) { c.PreferredTransports = []string{"usb", "cable"} }, "GATEHOUSE_WEBAUTHN_PREFERRED_TRANSPORTS"},
		{"user verification", func(c *webauthn.Config) { c.UserVerification = "always" }, "GATEHOUSE_WEBAUTHN_UV_REQUIREMENT"},
		{"enterprise attestation", func(c *webauthn.Config) { c.Attestation = "enterprise" }, "GATEHOUSE_WEBAUTHN_ATTESTATION: enterprise attestation is not supported"},
		{"unknown attestation", func(c *webauthn.Config) { c.Attestation = "full" }, "GATEHOUSE_WEBAUTHN_ATTESTATION"},
		{"root certs of an unknown format", func(c *webauthn.Config) { c.RootCerts = map[string][][]byte{"magic": {caPEM}} }, "GATEHOUSE_WEBAUTHN_ROOT_CERTS"},
		{"root certs not PEM", func(c *webauthn.Config) { c.RootCerts = map[string][][]byte{"packed": {[]byte("hello")}} }, "GATEHOUSE_WEBAUTHN_ROOT_CERTS"},
		{"root cert garbage in PEM", func(c *webauthn.Config) {
			c.RootCerts = map[string][][]byte{"tpm": {[]byte("-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n")}}
		}, "GATEHOUSE_WEBAUTHN_ROOT_CERTS"},
		{"negative throttle", func(c *webauthn.Config) { c.ThrottleFactor = -time.Second }, "GATEHOUSE_WEBAUTHN_THROTTLE_FACTOR"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			cfg := webauthn.Defaults()
			cfg.RPName = "Example"
			if tc.adjust != nil {
				tc.adjust(&cfg)
			}
			err := cfg.Validate()
			switch {
			case tc.want == "" && err != nil:
				t.Fatalf("want valid, got %v", err)
			case tc.want != "" && (err == nil || !strings.Contains(err.Error(), tc.want)):
				t.Fatalf("want an error naming %q, got %v", tc.want, err)
			}
		})
	}
}

// TestNewRefusesBadConfig: New does not register a misconfigured method.
func TestNewRefusesBadConfig(t *testing.T) {
	var newErr error
	app := authtest.New(t, authtest.Options{Setup: func(s *auth.Service) error {
		_, newErr = webauthn.New(s, webauthn.Defaults()) // no RP name
		return nil
	}})
	if newErr == nil || !strings.Contains(newErr.Error(), "GATEHOUSE_WEBAUTHN_RP_NAME") {
		t.Fatalf("New without an RP name: want an error naming GATEHOUSE_WEBAUTHN_RP_NAME, got %v", newErr)
	}
	if app.DB.Migrator().HasTable("otp_webauthn_device") {
		t.Error("a refused configuration must not register the method")
	}
}
