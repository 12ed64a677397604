package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestWebAuthnSettings: GATEHOUSE_WEBAUTHN_* settings are read at start;
// every wrong value fails naming its setting, a good set migrates the
// WebAuthn tables.
func TestWebAuthnSettings(t *testing.T) {
	const key = "0123456789abcdef0123456789abcdef-key"
	pemFile := filepath.Join(t.TempDir(), "root.pem")
	if err := os.WriteFile(pemFile, []byte("not a certificate"), 0o600); err != nil {
		t.Fatal(err)
	}
	on := []string{"GATEHOUSE_SECRET_KEY", key, "GATEHOUSE_WEBAUTHN_ENABLED", "true", "GATEHOUSE_WEBAUTHN_RP_NAME", "Example"}
	cases := []struct {
		name string
		vars []string
		want string // "" = success
	}{
		{"off", []string{"GATEHOUSE_SECRET_KEY", key}, ""},
		{"explicitly off ignores the rest", []string{"GATEHOUSE_SECRET_KEY", key, "GATEHOUSE_WEBAUTHN_ENABLED", "false", "GATEHOUSE_WEBAUTHN_ATTESTATION", "enterprise"}, ""},
		{"on", on, ""},
		{"on with everything", append(on[:len(on):len(on)], "GATEHOUSE_WEBAUTHN_RP_ID", "example.com", "GATEHOUSE_WEBAUTHN_AUTHENTICATOR_ATTACHMENT", "cross-platform",
			"GATEHOUSE_WEBAUTHN_PREFERRED_TRANSPORTS", "usb, nfc", "GATEHOUSE_WEBAUTHN_UV_REQUIREMENT", "required", "GATEHOUSE_WEBAUTHN_ATTESTATION", "direct",
			"GATEHOUSE_WEBAUTHN_THROTTLE_FACTOR", "2.5", "GATEHOUSE_WEBAUTHN_PASSKEY_LOGIN", "1"), ""},
		{"switch not a bool", []string{"GATEHOUSE_SECRET_KEY", key, "GATEHOUSE_WEBAUTHN_ENABLED", "sure"}, "GATEHOUSE_WEBAUTHN_ENABLED"},
		{"setting without the switch", []string{"GATEHOUSE_SECRET_KEY", key, "GATEHOUSE_WEBAUTHN_RP_NAME", "Example"}, "GATEHOUSE_WEBAUTHN_ENABLED"},
		{"enabled without RP name", []string{"GATEHOUSE_SECRET_KEY", key, "GATEHOUSE_WEBAUTHN_ENABLED", "true"}, "GATEHOUSE_WEBAUTHN_RP_NAME"},
		{"RP ID with port", append(on[:len(on):len(on)], "GATEHOUSE_WEBAUTHN_RP_ID", "example.com:8443"), "GATEHOUSE_WEBAUTHN_RP_ID"},
		{"RP ID an IP", append(on[:len(on):len(on)], "GATEHOUSE_WEBAUTHN_RP_ID", "10.0.0.1"), "GATEHOUSE_WEBAUTHN_RP_ID"},
		{"attachment", append(on[:len(on):len(on)], "GATEHOUSE_WEBAUTHN_AUTHENTICATOR_ATTACHMENT", "usb"), "GATEHOUSE_WEBAUTHN_AUTHENTICATOR_ATTACHMENT"},
		{"transport", append(on[:len(on):len(on)], "GATEHOUSE_WEBAUTHN_PREFERRED_TRANSPORTS", "usb,carrier-pigeon"), "GATEHOUSE_WEBAUTHN_PREFERRED_TRANSPORTS"},
		{"UV", append(on[:len(on):len(on)], "GATEHOUSE_WEBAUTHN_UV_REQUIREMENT", "always"), "GATEHOUSE_WEBAUTHN_UV_REQUIREMENT"},
		{"enterprise attestation", append(on[:len(on):len(on)], "GATEHOUSE_WEBAUTHN_ATTESTATION", "enterprise"), "GATEHOUSE_WEBAUTHN_ATTESTATION"},
		{"unknown attestation", append(on[:len(on):len(on)], "GATEHOUSE_WEBAUTHN_ATTESTATION", "full"), "GATEHOUSE_WEBAUTHN_ATTESTATION"},
		{"root certs syntax", append(on[:len(on):len(on)], "GATEHOUSE_WEBAUTHN_ROOT_CERTS", "packed"), "GATEHOUSE_WEBAUTHN_ROOT_CERTS"},
		{"root certs missing file", append(on[:len(on):len(on)], "GATEHOUSE_WEBAUTHN_ROOT_CERTS", "packed=/nonexistent.pem"), "GATEHOUSE_WEBAUTHN_ROOT_CERTS"},
		{"root certs not PEM", append(on[:len(on):len(on)], "GATEHOUSE_WEBAUTHN_ROOT_CERTS", "packed="+pemFile), "GATEHOUSE_WEBAUTHN_ROOT_CERTS"},
		{"root certs unknown format", append(on[:len(on):len(on)], "GATEHOUSE_WEBAUTHN_ROOT_CERTS", "magic="+pemFile), "GATEHOUSE_WEBAUTHN_ROOT_CERTS"},
		{"throttle negative", append(on[:len(on):len(on)], "GATEHOUSE_WEBAUTHN_THROTTLE_FACTOR", "-1"), "GATEHOUSE_WEBAUTHN_THROTTLE_FACTOR"},
		{"throttle NaN", append(on[:len(on):len(on)], "GATEHOUSE_WEBAUTHN_THROTTLE_FACTOR", "NaN"), "GATEHOUSE_WEBAUTHN_THROTTLE_FACTOR"},
		{"passkey login", append(on[:len(on):len(on)], "GATEHOUSE_WEBAUTHN_PASSKEY_LOGIN", "perhaps"), "GATEHOUSE_WEBAUTHN_PASSKEY_LOGIN"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			f := newFixture(t).with(tc.vars...)
			r := f.run("", "migrate")
			if tc.want != "" {
				if r.code != 1 || !strings.Contains(r.stderr, tc.want) {
					t.Fatalf("want exit 1 naming %s, got %d %q", tc.want, r.code, r.stderr)
				}
				return
			}
			if r.code != 0 {
				t.Fatalf("want success, got %d %q", r.code, r.stderr)
			}
			s := f.open()
			enabled := strings.Contains(strings.Join(tc.vars, " "), "GATEHOUSE_WEBAUTHN_ENABLED true")
			if got := s.db.Migrator().HasTable("otp_webauthn_device"); got != enabled {
				t.Errorf("otp_webauthn_device table exists: %v, want %v", got, enabled)
			}
		})
	}
}
