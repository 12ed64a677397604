package auth_test

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/gatehouse/gatehouse/auth"
	"github.com/gatehouse/gatehouse/auth/authtest"
)

// TestLogHoldsNoSecrets captures the site's real logger (Config.Logger:
// access log, refusals, errors) through whole logins — enrolment with an
// authenticator app, wrong password, wrong token, remember-this-browser,
// backup codes, logout — and checks that no password, TOTP secret or code,
// backup code, session id or remember cookie appears in it.
func TestLogHoldsNoSecrets(t *testing.T) {
	sink := &authtest.LogSink{}
	app := authtest.New(t, authtest.Options{Config: func(c *auth.Config) {
		c.Logger = sink.Logger()
		c.RememberCookieAge = time.Hour
	}})
	app.User("ana", true, false)
	seen := []string{authtest.Password, "wrong password!!"}

	// Enrolment, after a wrong password.
	c := app.Client()
	if r := c.Password("ana", "wrong password!!"); r.Status != http.StatusOK {
		t.Fatalf("wrong password: want 200 with the form, got %d", r.Status)
	}
	secret := c.Enrol("ana")
	seen = append(seen, secret, strings.ToLower(secret), app.Code(secret, 0))
	seen = append(seen, c.CookieValues()...)

	// Fresh backup codes.
	r := c.Post("/account/two_factor/backup/tokens/")
	codes := backupCodes(r.Body)
	if r.Status != http.StatusOK || len(codes) != 10 {
		t.Fatalf("backup codes: want 200 with 10 codes, got %d with %d", r.Status, len(codes))
	}
	seen = append(seen, codes...)
	if r := c.Post("/account/logout/"); r.Status != http.StatusSeeOther {
		t.Fatalf("logout: want 303, got %d", r.Status)
	}

	// A wrong token, then the right one with "remember this browser".
	app.Clock.Advance(time.Minute)
	c = app.Client()
	c.Password("ana", authtest.Password)
	seen = append(seen, c.CookieValues()...)
	wrong := app.Code(secret, 5)
	if r := c.Post("/account/login/", "login_view-current_step", "token", "token-otp_token", wrong); r.Status != http.StatusOK {
		t.Fatalf("wrong token: want 200 with the form, got %d", r.Status)
	}
	app.Clock.Advance(2 * time.Second) // past the one-failure back-off
	good := app.Code(secret, 0)
	if r := c.Post("/account/login/", "login_view-current_step", "token", "token-otp_token", good, "token-remember", "on"); r.Status != http.StatusSeeOther {
		t.Fatalf("token step: want 303, got %d %s", r.Status, r.Body)
	}
	seen = append(seen, wrong, good)
	seen = append(seen, c.CookieValues()...)

	// A backup code, wrong and right.
	b := app.Client()
	b.Password("ana", authtest.Password)
	b.Post("/account/login/", "login_view-current_step", "token", "wizard_goto_step", "backup")
	seen = append(seen, b.CookieValues()...)
	if r := b.Post("/account/login/", "login_view-current_step", "backup", "backup-otp_token", "zzzz9999"); r.Status != http.StatusOK {
		t.Fatalf("wrong backup code: want 200 with the form, got %d", r.Status)
	}
	app.Clock.Advance(2 * time.Second)
	if r := b.Post("/account/login/", "login_view-current_step", "backup", "backup-otp_token", codes[0]); r.Status != http.StatusSeeOther {
		t.Fatalf("backup code: want 303, got %d %s", r.Status, r.Body)
	}
	seen = append(seen, "zzzz9999")
	seen = append(seen, b.CookieValues()...)

	log := sink.String()
	for _, want := range []string{"path=/account/login/", "path=/account/two_factor/backup/tokens/", "status=303"} {
		if !strings.Contains(log, want) {
			t.Fatalf("the injected logger did not get the access log (%q missing):\n%s", want, log)
		}
	}
	if leaks := authtest.Leaks(log, seen...); len(leaks) > 0 {
		t.Errorf("secrets in the log: %q\n%s", leaks, log)
	}
}
