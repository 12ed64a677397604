package auth_test

import (
	"bytes"
	"log/slog"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gatehouse/gatehouse/auth"
	"github.com/gatehouse/gatehouse/auth/authtest"
)

// logSink collects log lines; the access log line of a request may be
// written after its response reached the client, so reads take the lock.
type logSink struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (s *logSink) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.buf.Write(p)
}

func (s *logSink) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.buf.String()
}

// secretsSeen gathers every secret value a test handled, to look for in
// the log afterwards.
type secretsSeen struct {
	text    []string // looked for as substrings
	numeric []string // codes: looked for as whole numbers
}

func (s *secretsSeen) cookies(app *authtest.App, c *authtest.Client) {
	u, _ := url.Parse(app.Server.URL)
	for _, ck := range c.Jar.Cookies(u) {
		if ck.Name != "lang" {
			s.text = append(s.text, ck.Value)
		}
	}
}

// leaks lists the secrets that appear in log.
func (s *secretsSeen) leaks(log string) []string {
	var out []string
	for _, v := range s.text {
		if v != "" && strings.Contains(log, v) {
			out = append(out, v)
		}
	}
	for _, v := range s.numeric {
		if regexp.MustCompile(`(^|[^0-9])` + v + `($|[^0-9])`).MatchString(log) {
			out = append(out, v)
		}
	}
	return out
}

// TestLogHoldsNoSecrets captures the site's real logger (Config.Logger:
// access log, refusals, errors) through whole logins — enrolment with an
// authenticator app, wrong password, wrong token, remember-this-browser,
// backup codes, logout — and checks that no password, TOTP secret or code,
// backup code, session id or remember cookie appears in it.
func TestLogHoldsNoSecrets(t *testing.T) {
	sink := &logSink{}
	app := authtest.New(t, authtest.Options{Config: func(c *auth.Config) {
		c.Logger = slog.New(slog.NewTextHandler(sink, &slog.HandlerOptions{Level: slog.LevelDebug}))
		c.RememberCookieAge = time.Hour
	}})
	app.User("ana", true, false)
	seen := &secretsSeen{text: []string{authtest.Password, "wrong password!!"}}

	// Enrolment, after a wrong password.
	c := app.Client()
	if r := c.Password("ana", "wrong password!!"); r.Status != http.StatusOK {
		t.Fatalf("wrong password: want 200 with the form, got %d", r.Status)
	}
	secret := c.Enrol("ana")
	seen.text = append(seen.text, secret, strings.ToLower(secret))
	seen.numeric = append(seen.numeric, app.Code(secret, 0))
	seen.cookies(app, c)

	// Fresh backup codes.
	r := c.Post("/account/two_factor/backup/tokens/")
	codes := backupCodes(r.Body)
	if r.Status != http.StatusOK || len(codes) != 10 {
		t.Fatalf("backup codes: want 200 with 10 codes, got %d with %d", r.Status, len(codes))
	}
	seen.text = append(seen.text, codes...)
	if r := c.Post("/account/logout/"); r.Status != http.StatusSeeOther {
		t.Fatalf("logout: want 303, got %d", r.Status)
	}

	// A wrong token, then the right one with "remember this browser".
	app.Clock.Advance(time.Minute)
	c = app.Client()
	c.Password("ana", authtest.Password)
	seen.cookies(app, c)
	wrong := app.Code(secret, 5)
	if r := c.Post("/account/login/", "login_view-current_step", "token", "token-otp_token", wrong); r.Status != http.StatusOK {
		t.Fatalf("wrong token: want 200 with the form, got %d", r.Status)
	}
	app.Clock.Advance(2 * time.Second) // past the one-failure back-off
	good := app.Code(secret, 0)
	if r := c.Post("/account/login/", "login_view-current_step", "token", "token-otp_token", good, "token-remember", "on"); r.Status != http.StatusSeeOther {
		t.Fatalf("token step: want 303, got %d %s", r.Status, r.Body)
	}
	seen.numeric = append(seen.numeric, wrong, good)
	seen.cookies(app, c)

	// A backup code, wrong and right.
	b := app.Client()
	b.Password("ana", authtest.Password)
	b.Post("/account/login/", "login_view-current_step", "token", "wizard_goto_step", "backup")
	seen.cookies(app, b)
	if r := b.Post("/account/login/", "login_view-current_step", "backup", "backup-otp_token", "zzzz9999"); r.Status != http.StatusOK {
		t.Fatalf("wrong backup code: want 200 with the form, got %d", r.Status)
	}
	app.Clock.Advance(2 * time.Second)
	if r := b.Post("/account/login/", "login_view-current_step", "backup", "backup-otp_token", codes[0]); r.Status != http.StatusSeeOther {
		t.Fatalf("backup code: want 303, got %d %s", r.Status, r.Body)
	}
	seen.text = append(seen.text, "zzzz9999")
	seen.cookies(app, b)

	log := sink.String()
	for _, want := range []string{"path=/account/login/", "path=/account/two_factor/backup/tokens/", "status=303"} {
		if !strings.Contains(log, want) {
			t.Fatalf("the injected logger did not get the access log (%q missing):\n%s", want, log)
		}
	}
	if leaks := seen.leaks(log); len(leaks) > 0 {
		t.Errorf("secrets in the log: %q\n%s", leaks, log)
	}
}
