package main

import (
	"strings"
	"testing"

	"github.com/gatehouse/gatehouse/auth/yubikey"
)

func TestYubikeySettings(t *testing.T) {
	cases := []struct {
		name string
		vars []string
		want string
	}{
		{"mode", []string{"GATEHOUSE_YUBIKEY", "cloud"}, "GATEHOUSE_YUBIKEY:"},
		{"throttle", []string{"GATEHOUSE_YUBIKEY", "remote", "GATEHOUSE_YUBIKEY_THROTTLE_FACTOR", "x"}, "GATEHOUSE_YUBIKEY_THROTTLE_FACTOR"},
		{"api key", []string{"GATEHOUSE_YUBIKEY", "remote", "GATEHOUSE_YUBIKEY_API_KEY", "not base64!"}, "GATEHOUSE_YUBIKEY_API_KEY"},
		{"url", []string{"GATEHOUSE_YUBIKEY", "remote", "GATEHOUSE_YUBIKEY_URL", "ftp://val.example.org/"}, "GATEHOUSE_YUBIKEY_URL"},
		{"http without key", []string{"GATEHOUSE_YUBIKEY", "remote", "GATEHOUSE_YUBIKEY_URL", "http://val.example.org/wsapi/2.0/verify"}, "GATEHOUSE_YUBIKEY_URL"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			r := newFixture(t).with(tc.vars...).run("", "migrate")
			if r.code != 1 || !strings.Contains(r.stderr, tc.want) {
				t.Fatalf("want exit 1 naming %s, got %d: %q", tc.want, r.code, r.stderr)
			}
		})
	}
	t.Run("remote with a self-hosted service", func(t *testing.T) {
		t.Parallel()
		f := newFixture(t).with("GATEHOUSE_YUBIKEY", "Remote", "GATEHOUSE_YUBIKEY_API_ID", "87",
			"GATEHOUSE_YUBIKEY_API_KEY", "tXCs0HUt4IyRhQB8pn7oeO3o6RQ=", "GATEHOUSE_YUBIKEY_URL", "http://val.internal:8080/wsapi/2.0/verify")
		f.mustRun("", "migrate")
		var v yubikey.ValidationService
		if err := f.open().db.Where("name = ?", "default").Take(&v).Error; err != nil {
			t.Fatal(err)
		}
		if v.APIID != "87" || v.URL != "http://val.internal:8080/wsapi/2.0/verify" || len(v.SealedAPIKey) == 0 || v.UseHTTPS || !v.VerifySignature {
			t.Fatalf("default service: %+v", v)
		}
	})
	t.Run("local, YubiCloud default", func(t *testing.T) {
		t.Parallel()
		f := newFixture(t).with("GATEHOUSE_YUBIKEY", "local")
		f.mustRun("", "migrate")
		var v yubikey.ValidationService
		if err := f.open().db.Where("name = ?", "default").Take(&v).Error; err != nil || v.URL != yubikey.YubiCloudURL || !v.UseHTTPS {
			t.Fatalf("default service: %+v %v", v, err)
		}
	})
	t.Run("off", func(t *testing.T) {
		t.Parallel()
		f := newFixture(t)
		f.mustRun("", "migrate")
		if f.open().db.Migrator().HasTable("otp_yubikey_device") {
			t.Fatal("the YubiKey method is registered without GATEHOUSE_YUBIKEY")
		}
	})
}
