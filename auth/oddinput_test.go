package auth_test

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/gatehouse/gatehouse/auth"
	"github.com/gatehouse/gatehouse/auth/authtest"
	"github.com/gatehouse/gatehouse/auth/email"
	"github.com/gatehouse/gatehouse/auth/phone"
)

// oddValues are inputs no form expects: long, NUL, invalid UTF-8, emoji.
var oddValues = []struct {
	name, value string
	status      int // NUL and invalid UTF-8 are refused by the input guard
}{
	{"300 chars", strings.Repeat("a", 300), http.StatusOK},
	{"10000 chars", strings.Repeat("b", 10000), http.StatusOK},
	{"300 digits", strings.Repeat("7", 300), http.StatusOK},
	{"emoji", strings.Repeat("😀", 80), http.StatusOK},
	{"NUL", "ana\x00x", http.StatusBadRequest},
	{"invalid UTF-8", "ana\xff\xfe", http.StatusBadRequest},
}

// TestOddInputsNever500: every field of the login, setup, phone and email
// steps answers odd values with the form and its error (200) or the input
// guard's 400, on every database; never a 500.
func TestOddInputsNever500(t *testing.T) {
	forEachDB(t, func(t *testing.T, o authtest.Options) {
		o.Setup = func(s *auth.Service) error {
			pc := phone.Defaults()
			pc.DefaultRegion = "NL"
			pc.SMS, pc.Call = phone.Fake{}, phone.Fake{}
			if _, err := phone.New(s, pc); err != nil {
				return err
			}
			ec := email.Defaults()
			ec.Host, ec.Port, ec.TLS, ec.From = "127.0.0.1", 1, email.TLSNone, "noreply@example.com"
			_, err := email.New(s, ec)
			return err
		}
		app := authtest.New(t, o)
		app.User("ana", true, false)
		e := app.Client()
		e.Password("ana", authtest.Password)
		e.Post("/account/two_factor/setup/", "setup_view-current_step", "welcome")
		secret := authtest.Secret(e.Post("/account/two_factor/setup/", "setup_view-current_step", "method", "method-method", "generator").Body)
		if r := e.Post("/account/two_factor/setup/", "setup_view-current_step", "generator", "generator-token", app.Code(secret, 0)); r.Status != http.StatusSeeOther {
			t.Fatalf("enrol ana: %d", r.Status)
		}
		app.Clock.Advance(time.Minute)
		n := 0
		fresh := func() string { // a user without devices, at forced enrolment
			n++
			name := "new" + strings.Repeat("x", n)
			app.User(name, true, false)
			return name
		}
		setup := func(c *authtest.Client, name string, steps ...[]string) {
			if r := c.Password(name, authtest.Password); r.Location() != "/account/two_factor/setup/" {
				t.Fatalf("password step of %s: %d", name, r.Status)
			}
			for _, s := range steps {
				c.Post("/account/two_factor/setup/", s...)
			}
		}
		cases := []struct {
			name  string
			ready func(c *authtest.Client) // brings the client to the step
			post  func(c *authtest.Client, v string) *authtest.Response
		}{
			{"login username", nil, func(c *authtest.Client, v string) *authtest.Response { return c.Password(v, "wrong") }},
			{"login password", nil, func(c *authtest.Client, v string) *authtest.Response { return c.Password("ana", v) }},
			{"login token", func(c *authtest.Client) { c.Password("ana", authtest.Password) },
				func(c *authtest.Client, v string) *authtest.Response { return tokenPost(c, v) }},
			{"login backup token", func(c *authtest.Client) {
				c.Password("ana", authtest.Password)
				c.Post("/account/login/", "login_view-current_step", "token", "wizard_goto_step", "backup")
			}, func(c *authtest.Client, v string) *authtest.Response {
				return c.Post("/account/login/", "login_view-current_step", "backup", "backup-otp_token", v)
			}},
			{"setup method", func(c *authtest.Client) { setup(c, fresh(), []string{"setup_view-current_step", "welcome"}) },
				func(c *authtest.Client, v string) *authtest.Response {
					return c.Post("/account/two_factor/setup/", "setup_view-current_step", "method", "method-method", v)
				}},
			{"setup generator token", func(c *authtest.Client) {
				setup(c, fresh(), []string{"setup_view-current_step", "welcome"}, []string{"setup_view-current_step", "method", "method-method", "generator"})
			}, func(c *authtest.Client, v string) *authtest.Response {
				return c.Post("/account/two_factor/setup/", "setup_view-current_step", "generator", "generator-token", v)
			}},
			{"setup sms number", func(c *authtest.Client) {
				setup(c, fresh(), []string{"setup_view-current_step", "welcome"}, []string{"setup_view-current_step", "method", "method-method", "sms"})
			}, func(c *authtest.Client, v string) *authtest.Response {
				return c.Post("/account/two_factor/setup/", "setup_view-current_step", "sms", "sms-number", v)
			}},
			{"setup call number", func(c *authtest.Client) {
				setup(c, fresh(), []string{"setup_view-current_step", "welcome"}, []string{"setup_view-current_step", "method", "method-method", "call"})
			}, func(c *authtest.Client, v string) *authtest.Response {
				return c.Post("/account/two_factor/setup/", "setup_view-current_step", "call", "call-number", "+31612345678"+v)
			}},
			{"setup phone validation token", func(c *authtest.Client) {
				setup(c, fresh(), []string{"setup_view-current_step", "welcome"}, []string{"setup_view-current_step", "method", "method-method", "sms"},
					[]string{"setup_view-current_step", "sms", "sms-number", "+31612345678"})
			}, func(c *authtest.Client, v string) *authtest.Response {
				return c.Post("/account/two_factor/setup/", "setup_view-current_step", "validation", "validation-token", v)
			}},
			{"setup email address @", func(c *authtest.Client) {
				setup(c, fresh(), []string{"setup_view-current_step", "welcome"}, []string{"setup_view-current_step", "method", "method-method", "email"})
			}, func(c *authtest.Client, v string) *authtest.Response {
				return c.Post("/account/two_factor/setup/", "setup_view-current_step", "email", "email-email", v+"@example.com")
			}},
		}
		for _, tc := range cases {
			for _, ov := range oddValues {
				if ov.status == http.StatusBadRequest && !strings.HasPrefix(tc.name, "login") {
					continue // the input guard refuses these before any handler: once per form is enough
				}
				c := app.Client()
				if tc.ready != nil {
					tc.ready(c)
				}
				r := tc.post(c, ov.value)
				if r.Status != ov.status {
					t.Errorf("%s, %s: want %d, got %d %s", tc.name, ov.name, ov.status, r.Status, errorText(r.Body))
				}
			}
		}
	})
}

// errorText is the form error or page message, for failure reports.
func errorText(body string) string {
	for _, marker := range []string{`role="alert"`, `<main`} {
		if i := strings.Index(body, marker); i >= 0 {
			return body[i:min(len(body), i+300)]
		}
	}
	return body[:min(len(body), 300)]
}
