package main

import (
	"bytes"
	"context"
	"log/slog"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/gatehouse/gatehouse/auth"
)

func TestRememberSettings(t *testing.T) {
	const key = "0123456789abcdef0123456789abcdef-key"
	cases := []struct {
		name string
		vars []string
		want string // the setting named in the error; "" when valid
		ok   func(auth.Config) bool
	}{
		{"defaults", nil, "", func(c auth.Config) bool {
			return c.RememberCookieAge == 0 && c.RememberCookiePrefix == "remember-cookie_" && c.RememberCookiePath == "/" &&
				c.RememberCookieDomain == "" && !c.RememberCookieSecure && !c.RememberCookieScriptAccess &&
				c.RememberCookieSameSite == http.SameSiteLaxMode
		}},
		{"all set", []string{"GATEHOUSE_REMEMBER_COOKIE_AGE", "86400", "GATEHOUSE_REMEMBER_COOKIE_PREFIX", "rc_",
			"GATEHOUSE_REMEMBER_COOKIE_DOMAIN", "example.com", "GATEHOUSE_REMEMBER_COOKIE_PATH", "/account/",
			"GATEHOUSE_REMEMBER_COOKIE_SECURE", "true", "GATEHOUSE_REMEMBER_COOKIE_HTTPONLY", "false",
			"GATEHOUSE_REMEMBER_COOKIE_SAMESITE", "strict"}, "", func(c auth.Config) bool {
			return c.RememberCookieAge == 24*time.Hour && c.RememberCookiePrefix == "rc_" && c.RememberCookiePath == "/account/" &&
				c.RememberCookieDomain == "example.com" && c.RememberCookieSecure && c.RememberCookieScriptAccess &&
				c.RememberCookieSameSite == http.SameSiteStrictMode
		}},
		{"samesite None with Secure", []string{"GATEHOUSE_REMEMBER_COOKIE_SAMESITE", "None", "GATEHOUSE_REMEMBER_COOKIE_SECURE", "1"}, "",
			func(c auth.Config) bool { return c.RememberCookieSameSite == http.SameSiteNoneMode }},
		{"age abc", []string{"GATEHOUSE_REMEMBER_COOKIE_AGE", "abc"}, "GATEHOUSE_REMEMBER_COOKIE_AGE", nil},
		{"age negative", []string{"GATEHOUSE_REMEMBER_COOKIE_AGE", "-5"}, "GATEHOUSE_REMEMBER_COOKIE_AGE", nil},
		{"age fraction", []string{"GATEHOUSE_REMEMBER_COOKIE_AGE", "1.5"}, "GATEHOUSE_REMEMBER_COOKIE_AGE", nil},
		{"prefix with a space", []string{"GATEHOUSE_REMEMBER_COOKIE_PREFIX", "my prefix"}, "GATEHOUSE_REMEMBER_COOKIE_PREFIX", nil},
		{"relative path", []string{"GATEHOUSE_REMEMBER_COOKIE_PATH", "account"}, "GATEHOUSE_REMEMBER_COOKIE_PATH", nil},
		{"domain with a port", []string{"GATEHOUSE_REMEMBER_COOKIE_DOMAIN", "example.com:8000"}, "GATEHOUSE_REMEMBER_COOKIE_DOMAIN", nil},
		{"secure maybe", []string{"GATEHOUSE_REMEMBER_COOKIE_SECURE", "maybe"}, "GATEHOUSE_REMEMBER_COOKIE_SECURE", nil},
		{"httponly maybe", []string{"GATEHOUSE_REMEMBER_COOKIE_HTTPONLY", "maybe"}, "GATEHOUSE_REMEMBER_COOKIE_HTTPONLY", nil},
		{"samesite sometimes", []string{"GATEHOUSE_REMEMBER_COOKIE_SAMESITE", "sometimes"}, "GATEHOUSE_REMEMBER_COOKIE_SAMESITE", nil},
		{"samesite None without Secure", []string{"GATEHOUSE_REMEMBER_COOKIE_SAMESITE", "None"}, "GATEHOUSE_REMEMBER_COOKIE_SAMESITE", nil},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			f := newFixture(t).with(append([]string{"GATEHOUSE_SECRET_KEY", key}, tc.vars...)...)
			cfg, err := f.env(strings.NewReader(""), &bytes.Buffer{}, &bytes.Buffer{}).authConfig(f.vars["GATEHOUSE_DB"])
			if tc.want != "" {
				if err == nil || !strings.Contains(err.Error(), tc.want) {
					t.Fatalf("want an error naming %s, got %v", tc.want, err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if !tc.ok(cfg) {
				t.Fatalf("settings not applied: %+v", cfg)
			}
		})
	}
}

// TestBackupUsedWarning: the demo site logs a warning when a backup code
// signs someone in.
func TestBackupUsedWarning(t *testing.T) {
	f := newFixture(t).with("GATEHOUSE_SECRET_KEY", "0123456789abcdef0123456789abcdef-key")
	s := f.open()
	u, err := s.auth.CreateUser(context.Background(), auth.NewUser{Username: "ana", Password: pw})
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	old := slog.Default()
	slog.SetDefault(slog.New(slog.NewTextHandler(&buf, nil)))
	defer slog.SetDefault(old)
	s.auth.RecordContext(auth.WithClientIP(context.Background(), "203.0.113.9"), auth.Event{Kind: auth.EventLoginVerified, UserID: u.ID})
	s.auth.RecordContext(auth.WithClientIP(context.Background(), "203.0.113.9"), auth.Event{Kind: auth.EventBackupUsed, UserID: u.ID})
	out := buf.String()
	if strings.Count(out, "level=WARN") != 1 || !strings.Contains(out, "backup code used") || !strings.Contains(out, "user=ana") || !strings.Contains(out, "ip=203.0.113.9") {
		t.Fatalf("want one WARN line naming the user and IP, got %q", out)
	}
}
