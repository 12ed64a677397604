package auth_test

import (
	"net/http"
	"strings"
	"testing"

	"github.com/gin-gonic/gin"

	"github.com/gatehouse/gatehouse/auth"
	"github.com/gatehouse/gatehouse/auth/authtest"
)

// TestGuardOptions mounts the guard with the seed's OTPRequiredMixin
// options on a developer's own route group.
func TestGuardOptions(t *testing.T) {
	app := authtest.New(t, authtest.Options{Mount: func(s *auth.Service, e *gin.Engine) {
		ok := func(c *gin.Context) { c.String(200, "secret area") }
		e.GET("/default/", s.OTPRequired(auth.GuardOptions{}), ok)
		e.GET("/raise/", s.OTPRequired(auth.GuardOptions{RaiseAnonymous: true, RaiseUnverified: true}), ok)
		e.GET("/custom/", s.OTPRequired(auth.GuardOptions{LoginURL: "/signin/", VerificationURL: "/verify/", RedirectFieldName: "back"}), ok)
		e.GET("/ifconf/", s.OTPRequired(auth.GuardOptions{IfConfigured: true}), ok)
	}})
	app.User("fresh", false, false) // no device
	app.User("enrolled", false, false)
	app.Client().Enrol("enrolled")

	anon := app.Client()
	fresh := app.Client()
	fresh.Password("fresh", authtest.Password)
	pending := app.Client()
	app.Clock.Advance(60e9)
	pending.Password("enrolled", authtest.Password)
	verified := app.Client()
	app.User("v", false, false)
	verified.Enrol("v")

	cases := []struct {
		name   string
		client *authtest.Client
		path   string
		status int
		loc    string
	}{
		{"anonymous redirected with next", anon, "/default/", 303, "/account/login/?next=%2Fdefault%2F"},
		{"anonymous raise", anon, "/raise/", 403, ""},
		{"unverified raise", pending, "/raise/", 403, ""},
		{"anonymous custom login url", anon, "/custom/", 303, "/signin/?back=%2Fcustom%2F"},
		{"unverified custom verification url", pending, "/custom/", 303, "/verify/?back=%2Fcustom%2F"},
		{"unverified default", pending, "/default/", 303, "/account/login/?next=%2Fdefault%2F"},
		{"if-configured lets a deviceless user in", fresh, "/ifconf/", 200, ""},
		{"if-configured still stops a user with a device", pending, "/ifconf/", 303, "/account/login/?next=%2Fifconf%2F"},
		{"if-configured stops anonymous", anon, "/ifconf/", 303, "/account/login/?next=%2Fifconf%2F"},
		{"verified passes", verified, "/raise/", 200, ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			r := tc.client.Get(tc.path)
			if r.Status != tc.status || r.Location() != tc.loc {
				t.Fatalf("got %d %q, want %d %q", r.Status, r.Location(), tc.status, tc.loc)
			}
			if tc.status == 200 && !strings.Contains(r.Body, "secret area") {
				t.Fatal("body missing")
			}
		})
	}
}

// TestHTMXWizard: htmx requests get the wizard fragment with Vary, and
// completion answers HX-Redirect instead of a 3xx.
func TestHTMXWizard(t *testing.T) {
	app := authtest.New(t, authtest.Options{})
	app.User("ana", true, false)
	secret := app.Client().Enrol("ana")
	app.Clock.Advance(60e9)
	c := app.Client()
	hx := []string{"HX-Request", "true"}
	full := c.Get("/account/login/")
	frag := c.Get("/account/login/", hx...)
	if !strings.Contains(full.Body, "<html") || strings.Contains(frag.Body, "<html") || !strings.HasPrefix(strings.TrimSpace(frag.Body), `<section id="wizard"`) {
		t.Fatalf("htmx request must get only the wizard fragment")
	}
	if !strings.Contains(frag.Header.Get("Vary"), "HX-Request") {
		t.Fatalf("responses that differ by HX-Request must send Vary: HX-Request")
	}
	restore := c.Get("/account/login/", "HX-Request", "true", "HX-History-Restore-Request", "true")
	if !strings.Contains(restore.Body, "<html") {
		t.Fatalf("a history restore must get the full page")
	}
	r := c.PostForm("/account/login/", authtest.Form("login_view-current_step", "auth", "auth-username", "ana", "auth-password", authtest.Password), hx...)
	if r.Status != 200 || !strings.Contains(r.Body, `name="token-otp_token"`) || strings.Contains(r.Body, "<html") {
		t.Fatalf("htmx password step must swap in the token fragment: %d", r.Status)
	}
	r = c.PostForm("/account/login/", authtest.Form("login_view-current_step", "token", "token-otp_token", app.Code(secret, 0)), hx...)
	if r.Status != http.StatusOK || r.Header.Get("HX-Redirect") != "/account/two_factor/" {
		t.Fatalf("htmx completion must answer 200 with HX-Redirect, got %d %q", r.Status, r.Header.Get("HX-Redirect"))
	}
}

func TestLanguagesRender(t *testing.T) {
	app := authtest.New(t, authtest.Options{})
	c := app.Client()
	he := c.Get("/account/login/?lang=he")
	if !strings.Contains(he.Body, `<html lang="he" dir="rtl">`) {
		t.Fatalf("Hebrew login page must be right-to-left")
	}
	// The cookie keeps the choice.
	if again := c.Get("/account/login/"); !strings.Contains(again.Body, `lang="he"`) {
		t.Fatalf("language cookie not honoured")
	}
	de := app.Client().Get("/account/login/", "Accept-Language", "de-DE,de;q=0.9")
	if !strings.Contains(de.Body, `<html lang="de" dir="ltr">`) || strings.Contains(de.Body, ">Log in<") {
		t.Fatalf("German page not translated")
	}
}
