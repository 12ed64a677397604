package main

import (
	"strings"
	"testing"
)

func TestEmailSettings(t *testing.T) {
	base := []string{"GATEHOUSE_EMAIL_HOST", "smtp.example.com", "GATEHOUSE_EMAIL_FROM", "Site <noreply@example.com>"}
	cases := []struct {
		name string
		vars []string
		want string
	}{
		{"port", []string{"GATEHOUSE_EMAIL_PORT", "abc"}, "GATEHOUSE_EMAIL_PORT"},
		{"port range", []string{"GATEHOUSE_EMAIL_PORT", "70000"}, "GATEHOUSE_EMAIL_PORT"},
		{"tls", []string{"GATEHOUSE_EMAIL_TLS", "ssl"}, "GATEHOUSE_EMAIL_TLS"},
		{"from missing", []string{"GATEHOUSE_EMAIL_FROM", ""}, "GATEHOUSE_EMAIL_FROM"},
		{"from invalid", []string{"GATEHOUSE_EMAIL_FROM", "nobody"}, "GATEHOUSE_EMAIL_FROM"},
		{"validity", []string{"GATEHOUSE_EMAIL_TOKEN_VALIDITY", "abc"}, "GATEHOUSE_EMAIL_TOKEN_VALIDITY"},
		{"validity above 600", []string{"GATEHOUSE_EMAIL_TOKEN_VALIDITY", "601"}, "GATEHOUSE_EMAIL_TOKEN_VALIDITY"},
		{"cooldown", []string{"GATEHOUSE_EMAIL_COOLDOWN", "-1"}, "GATEHOUSE_EMAIL_COOLDOWN"},
		{"throttle factor", []string{"GATEHOUSE_EMAIL_THROTTLE_FACTOR", "NaN"}, "GATEHOUSE_EMAIL_THROTTLE_FACTOR"},
		{"budget", []string{"GATEHOUSE_EMAIL_MAX_PER_USER_HOUR", "ten"}, "GATEHOUSE_EMAIL_MAX_PER_USER_HOUR"},
		{"password without tls", []string{"GATEHOUSE_EMAIL_TLS", "none", "GATEHOUSE_EMAIL_USER", "u", "GATEHOUSE_EMAIL_PASSWORD", "p"}, "GATEHOUSE_EMAIL_PASSWORD"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			r := newFixture(t).with(append(append([]string{}, base...), tc.vars...)...).run("", "migrate")
			if r.code != 1 || !strings.Contains(r.stderr, tc.want) {
				t.Fatalf("want exit 1 naming %s, got %d: %q", tc.want, r.code, r.stderr)
			}
		})
	}
	t.Run("valid", func(t *testing.T) {
		t.Parallel()
		f := newFixture(t).with(append(base, "GATEHOUSE_EMAIL_PORT", "2525", "GATEHOUSE_EMAIL_TLS", "TLS", "GATEHOUSE_EMAIL_USER", "mailer",
			"GATEHOUSE_EMAIL_PASSWORD", "pw", "GATEHOUSE_EMAIL_TOKEN_VALIDITY", "120", "GATEHOUSE_EMAIL_COOLDOWN", "0",
			"GATEHOUSE_EMAIL_THROTTLE_FACTOR", "0.5", "GATEHOUSE_EMAIL_MAX_PER_HOUR", "0")...)
		f.mustRun("", "migrate")
		if !f.open().db.Migrator().HasTable("otp_email_device") {
			t.Fatal("the email method is not registered")
		}
	})
	t.Run("off without a host", func(t *testing.T) {
		t.Parallel()
		f := newFixture(t).with("GATEHOUSE_EMAIL_FROM", "nobody")
		f.mustRun("", "migrate")
		if f.open().db.Migrator().HasTable("otp_email_device") {
			t.Fatal("the email method is registered without GATEHOUSE_EMAIL_HOST")
		}
	})
}
