package auth_test

import (
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/gatehouse/gatehouse/auth"
	"github.com/gatehouse/gatehouse/auth/authtest"
)

func reauthFor(next string) string {
	return "/account/two_factor/reauth/?next=" + url.QueryEscape(next)
}

func backupCount(t *testing.T, app *authtest.App, userID uint) int64 {
	t.Helper()
	n, err := app.Service.BackupCount(t.Context(), userID)
	if err != nil {
		t.Fatal(err)
	}
	return n
}

// Sensitive actions on a session whose last second-factor verification is
// older than the window are sent to the re-authentication page and change
// nothing; within the window they go through.
func TestSudoModeGuardsSensitiveActions(t *testing.T) {
	forEachDB(t, func(t *testing.T, o authtest.Options) {
		app := authtest.New(t, o)
		u := app.User("ana", true, true)
		c := app.Client()
		secret := c.Enrol("ana")

		// Fresh from the login: no question asked.
		if r := c.Post("/account/two_factor/backup/tokens/"); r.Status != http.StatusOK || len(backupCodes(r.Body)) != 10 {
			t.Fatalf("backup codes within the window: want 200 with 10 codes, got %d", r.Status)
		}

		app.Clock.Advance(301 * time.Second)
		for _, tc := range []struct {
			method, path string
			form         []string
			next         string
		}{
			{"GET", "/account/two_factor/backup/tokens/", nil, "/account/two_factor/backup/tokens/"},
			{"POST", "/account/two_factor/backup/tokens/", nil, "/account/two_factor/backup/tokens/"},
			{"GET", "/account/two_factor/disable/", nil, "/account/two_factor/disable/"},
			{"POST", "/account/two_factor/disable/", []string{"understand", "on", "password", authtest.Password}, "/account/two_factor/disable/"},
			{"GET", "/account/password_change/", nil, "/account/password_change/"},
			{"POST", "/account/password_change/", []string{"old_password", authtest.Password, "new_password1", "another long passphrase", "new_password2", "another long passphrase"}, "/account/password_change/"},
		} {
			var r *authtest.Response
			if tc.method == "GET" {
				r = c.Get(tc.path)
			} else {
				r = c.Post(tc.path, tc.form...)
			}
			if r.Status != http.StatusSeeOther || r.Location() != reauthFor(tc.next) {
				t.Errorf("%s %s after the window: want 303 %s, got %d %q", tc.method, tc.path, reauthFor(tc.next), r.Status, r.Location())
			}
		}
		// Nothing changed: same backup codes, devices and password.
		if n := backupCount(t, app, u.ID); n != 10 {
			t.Fatalf("backup codes changed without a fresh second factor: %d", n)
		}
		if on, _ := app.Service.TwoFactorEnabled(t.Context(), u); !on {
			t.Fatalf("two-factor was disabled without a fresh second factor")
		}
		if _, err := app.Service.UserByName(t.Context(), "ana"); err != nil {
			t.Fatal(err)
		}
		if r := app.Client().Password("ana", authtest.Password); r.Status != http.StatusOK || !strings.Contains(r.Body, `name="token-otp_token"`) {
			t.Fatalf("the password changed without a fresh second factor: %d", r.Status)
		}

		// The re-authentication page: a wrong code is refused, the right
		// one returns to the action, which then works.
		next := "/account/two_factor/backup/tokens/"
		if r := c.Get(reauthFor(next)); r.Status != http.StatusOK || !strings.Contains(r.Body, `name="token-otp_token"`) || r.Header.Get("Cache-Control") != "no-store" {
			t.Fatalf("reauth page: want 200 no-store with a token field, got %d %q", r.Status, r.Header.Get("Cache-Control"))
		}
		if r := c.Post("/account/two_factor/reauth/", "next", next, "token-otp_token", "000000"); r.Status != http.StatusOK || !strings.Contains(r.Body, "Invalid token") {
			t.Fatalf("reauth with a wrong code: want 200 with the error, got %d", r.Status)
		}
		app.Clock.Advance(time.Second) // past the wrong code's one-second back-off
		before := c.SessionCookie()
		if r := c.Post("/account/two_factor/reauth/", "next", next, "token-otp_token", app.Code(secret, 0)); r.Status != http.StatusSeeOther || r.Location() != next {
			t.Fatalf("reauth with the right code: want 303 %s, got %d %q", next, r.Status, r.Location())
		}
		if c.SessionCookie() == before {
			t.Errorf("reauth must give the session a new id")
		}
		r := c.Post("/account/two_factor/backup/tokens/")
		if r.Status != http.StatusOK || len(backupCodes(r.Body)) != 10 {
			t.Fatalf("backup codes after reauth: want 200 with 10 codes, got %d", r.Status)
		}
		var n int64
		app.DB.Model(&auth.Event{}).Where("user_id = ? AND kind = ?", u.ID, auth.EventReauthenticated).Count(&n)
		if n != 1 {
			t.Fatalf("want 1 reauthenticated event, got %d", n)
		}

		// The same code cannot confirm twice.
		app.Clock.Advance(301 * time.Second)
		if r := c.Post("/account/two_factor/reauth/", "next", next, "token-otp_token", app.Code(secret, -10)); r.Status != http.StatusOK {
			t.Fatalf("reauth with an old code: want 200 with the error, got %d", r.Status)
		}
	})
}

// A backup code confirms too; a hostile next falls back to the account page;
// only verified sessions reach the page.
func TestReauthBackupCodeAndRedirects(t *testing.T) {
	app := authtest.New(t, authtest.Options{})
	app.User("ana", true, true)
	c := app.Client()
	c.Enrol("ana")
	codes := backupCodes(c.Post("/account/two_factor/backup/tokens/").Body)
	app.Clock.Advance(10 * time.Minute)

	if r := c.Post("/account/two_factor/reauth/", "wizard_goto_step", "backup", "next", "//evil.example/"); r.Status != http.StatusOK || !strings.Contains(r.Body, `name="backup-otp_token"`) {
		t.Fatalf("reauth backup step: want 200 with the backup field, got %d", r.Status)
	}
	if r := c.Post("/account/two_factor/reauth/", "next", "//evil.example/", "backup-otp_token", codes[0]); r.Status != http.StatusSeeOther || r.Location() != "/account/two_factor/" {
		t.Fatalf("reauth with a backup code and a hostile next: want 303 /account/two_factor/, got %d %q", r.Status, r.Location())
	}
	if r := c.Get("/account/two_factor/disable/"); r.Status != http.StatusOK {
		t.Fatalf("disable page after reauth: want 200, got %d", r.Status)
	}
	if r := c.Post("/account/two_factor/reauth/", "wizard_goto_step", "elsewhere"); r.Status != http.StatusBadRequest {
		t.Fatalf("unknown step: want 400, got %d", r.Status)
	}

	anon := app.Client()
	if r := anon.Get("/account/two_factor/reauth/"); r.Status != http.StatusSeeOther || r.Location() != "/account/login/?next=%2Faccount%2Ftwo_factor%2Freauth%2F" {
		t.Fatalf("anonymous reauth: want 303 to login, got %d %q", r.Status, r.Location())
	}
	pending := app.Client()
	pending.Password("ana", authtest.Password)
	if r := pending.Post("/account/two_factor/reauth/", "token-otp_token", "123456"); r.Status != http.StatusSeeOther || !strings.HasPrefix(r.Location(), "/account/login/?next=") {
		t.Fatalf("password-only reauth: want 303 to login, got %d %q", r.Status, r.Location())
	}
}

// Changing the password in sudo mode ends the user's other sessions, keeps
// this one, and needs the current password.
func TestPasswordChange(t *testing.T) {
	app := authtest.New(t, authtest.Options{})
	app.User("ana", true, true)
	c := app.Client()
	secret := c.Enrol("ana")
	app.Clock.Advance(30 * time.Second)
	other := app.Client()
	other.Login("ana", secret, 0)

	const np = "a brand new passphrase"
	for _, tc := range []struct {
		name, old, p1, p2, want string
	}{
		{"wrong current", "not my password!", np, np, "current password is not correct"},
		{"mismatch", authtest.Password, np, np + "x", "do not match"},
		{"too short", authtest.Password, "short", "short", "at least 12"},
	} {
		r := c.Post("/account/password_change/", "old_password", tc.old, "new_password1", tc.p1, "new_password2", tc.p2)
		if r.Status != http.StatusOK || !strings.Contains(r.Body, tc.want) {
			t.Errorf("%s: want 200 with %q, got %d", tc.name, tc.want, r.Status)
		}
	}
	if r := c.Post("/account/password_change/", "old_password", authtest.Password, "new_password1", np, "new_password2", np); r.Status != http.StatusSeeOther || r.Location() != "/account/two_factor/" {
		t.Fatalf("password change: want 303 /account/two_factor/, got %d %q", r.Status, r.Location())
	}
	if r := c.Get("/account/two_factor/"); r.Status != http.StatusOK || !strings.Contains(r.Body, "Your password was changed") {
		t.Fatalf("this session must go on after the change: %d", r.Status)
	}
	if r := other.Get("/account/two_factor/"); r.Status != http.StatusSeeOther {
		t.Fatalf("the other session must end: want 303, got %d", r.Status)
	}
	if r := app.Client().Password("ana", np); r.Status != http.StatusOK || !strings.Contains(r.Body, `name="token-otp_token"`) {
		t.Fatalf("the new password must work: %d", r.Status)
	}
}
