package admin_test

import (
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/gin-gonic/gin"

	"github.com/gatehouse/gatehouse/admin"
	"github.com/gatehouse/gatehouse/auth"
	"github.com/gatehouse/gatehouse/auth/authtest"
	"github.com/gatehouse/gatehouse/internal/httpx"
)

func newSite(t *testing.T) *authtest.App {
	return authtest.New(t, authtest.Options{Mount: func(s *auth.Service, e *gin.Engine) {
		admin.NewSite(s, admin.Options{}).Mount(e)
	}})
}

// TestCrossOriginPostsRefused walks every POST route of the whole site
// with a cross-origin request: each must answer 403 before any handler runs.
func TestCrossOriginPostsRefused(t *testing.T) {
	app, _ := newLibrary(t)
	seedBooks(t, app, 1)
	app.User("ana", true, true)
	c := app.Client()
	c.Enrol("ana") // a verified session: the refusal must not depend on being anonymous
	posts := 0
	for _, r := range app.Engine.Routes() {
		if r.Method != http.MethodPost {
			continue
		}
		posts++
		path := strings.NewReplacer(":app", "library", ":model", "book", ":id", "1", ":page", "change", "*path", "x").Replace(r.Path)
		for _, h := range [][]string{
			{"Sec-Fetch-Site", "cross-site"},
			{"Origin", "http://evil.example"},
		} {
			res := c.PostForm(path, url.Values{"login_view-current_step": {"auth"}}, h...)
			if res.Status != http.StatusForbidden {
				t.Errorf("cross-origin POST %s with %s: want 403, got %d", path, h[0], res.Status)
			}
		}
	}
	var books int64
	app.DB.Model(&Book{}).Count(&books)
	if books != 1 {
		t.Fatalf("a cross-origin POST changed data: %d books", books)
	}
	if posts < 9 {
		t.Fatalf("route walk found only %d POST routes", posts)
	}
}

func TestSecurityHeaders(t *testing.T) {
	app := newSite(t)
	c := app.Client()
	r := c.Get("/account/login/")
	csp := r.Header.Get("Content-Security-Policy")
	for _, bad := range []string{"unsafe-inline", "unsafe-eval"} {
		if strings.Contains(csp, bad) {
			t.Errorf("CSP allows %s: %s", bad, csp)
		}
	}
	for _, want := range []string{"frame-ancestors 'none'", "script-src 'self'", "object-src 'none'"} {
		if !strings.Contains(csp, want) {
			t.Errorf("CSP lacks %q", want)
		}
	}
	if r.Header.Get("X-Content-Type-Options") != "nosniff" || r.Header.Get("Referrer-Policy") == "" {
		t.Errorf("missing nosniff or Referrer-Policy")
	}
	if regexp.MustCompile(`<script(?:\s[^>]*)?>[^<]+</script>`).MatchString(r.Body) || strings.Contains(r.Body, " style=") || strings.Contains(r.Body, " onclick=") {
		t.Errorf("the page has inline script or style, which the CSP blocks")
	}
	// Session cookie flags.
	app.User("ana", true, false)
	res := c.Password("ana", authtest.Password)
	sc := strings.Join(res.Header.Values("Set-Cookie"), "\n")
	if !strings.Contains(sc, auth.SessionCookie) || !strings.Contains(sc, "HttpOnly") || !strings.Contains(sc, "SameSite=Lax") {
		t.Errorf("session cookie must be HttpOnly and SameSite=Lax: %s", sc)
	}
	if strings.Contains(sc, "Secure") {
		t.Errorf("Secure cookie over plain http would never come back: %s", sc)
	}
	// The generator step shows a secret: no-store and hx-history=false.
	g := c.Post("/account/two_factor/setup/", "setup_view-current_step", "welcome")
	if g.Header.Get("Cache-Control") != "no-store" || !strings.Contains(g.Body, `hx-history="false"`) {
		t.Errorf("generator step must be no-store with hx-history=false: %q", g.Header.Get("Cache-Control"))
	}
	q := c.Get("/account/two_factor/qrcode/")
	if q.Status != 200 || q.Header.Get("Content-Type") != "image/svg+xml" || q.Header.Get("Cache-Control") != "no-store" || !strings.HasPrefix(q.Body, "<svg") {
		t.Errorf("QR code: want a no-store SVG, got %d %q", q.Status, q.Header.Get("Content-Type"))
	}
}

func TestAdminGuard(t *testing.T) {
	app := newSite(t)
	app.User("staff", true, false)
	app.User("plain", false, false)
	anon := app.Client()

	r := anon.Get("/admin/")
	if r.Status != http.StatusSeeOther || r.Location() != "/admin/login/?next=%2Fadmin%2F" {
		t.Fatalf("anonymous /admin/: want 303 to /admin/login/?next=/admin/, got %d %q", r.Status, r.Location())
	}
	r = anon.Get(r.Location())
	if r.Location() != "/account/login/?next=%2Fadmin%2F" {
		t.Fatalf("/admin/login/: want redirect to /account/login/?next=/admin/, got %q", r.Location())
	}
	if r := anon.Get("/admin/login/?next=//evil.com"); strings.Contains(r.Location(), "evil") {
		t.Fatalf("admin login passed an unsafe next on: %q", r.Location())
	}
	if r := anon.Get("/admin/", "HX-Request", "true"); r.Header.Get("HX-Redirect") == "" || r.Status != http.StatusOK {
		t.Fatalf("htmx request to a guarded page must get HX-Redirect, got %d", r.Status)
	}

	pending := app.Client()
	pending.Enrol("staff")
	pending.Post("/account/logout/")
	pending.Password("staff", authtest.Password)
	if r := pending.Get("/admin/"); r.Status != http.StatusSeeOther || r.Location() != authtest.ToLogin("/admin/") {
		t.Fatalf("a password-only session reached the admin: want 303 to the login page, got %d %q", r.Status, r.Location())
	}

	nonStaff := app.Client()
	nonStaff.Enrol("plain")
	if r := nonStaff.Get("/admin/"); r.Status != http.StatusForbidden {
		t.Fatalf("a verified non-staff user must get 403 from the admin, got %d", r.Status)
	}
	staff := app.Client()
	app.User("boss", true, false)
	staff.Enrol("boss")
	if r := staff.Get("/admin/"); r.Status != http.StatusOK || !strings.Contains(r.Body, "Site administration") {
		t.Fatalf("verified staff must see the admin index, got %d", r.Status)
	}
}

func TestLoginNextIsValidated(t *testing.T) {
	app := newSite(t)
	app.User("ana", true, false)
	secret := app.Client().Enrol("ana")
	for _, next := range []string{"//evil.com", "/\\evil.com", "https://evil.com", "javascript:alert(1)", "%2F%2Fevil.com", "\t/evil.com", "http:evil.com"} {
		app.Clock.Advance(60e9)
		c := app.Client()
		c.Get("/account/login/?next=" + url.QueryEscape(next))
		c.Post("/account/login/", "login_view-current_step", "auth", "auth-username", "ana", "auth-password", authtest.Password, "next", next)
		r := c.Post("/account/login/", "login_view-current_step", "token", "token-otp_token", app.Code(secret, 0), "next", next)
		if loc := r.Location(); loc != "/account/two_factor/" {
			t.Errorf("next=%q: redirected to %q", next, loc)
		}
		if _, ok := httpx.SafeRedirect(next); ok {
			t.Errorf("validator accepts %q", next)
		}
	}
	app.Clock.Advance(60e9)
	c := app.Client()
	c.Post("/account/login/", "login_view-current_step", "auth", "auth-username", "ana", "auth-password", authtest.Password, "next", "/admin/")
	if r := c.Post("/account/login/", "login_view-current_step", "token", "token-otp_token", app.Code(secret, 0)); r.Location() != "/admin/" {
		t.Errorf("a safe next must be honoured after the token step: %q", r.Location())
	}
}

// TestNoStoreEverywhere walks every GET route of the whole site (auth,
// account, every admin page of every registered model) as an anonymous
// visitor, after the password step only, and verified: each answer, and
// the answers to the login and logout posts, must be
// "Cache-Control: no-store", so no page of a session or of the login flow
// stays in a browser's or a proxy's cache. Only the public static files
// may be cached.
func TestNoStoreEverywhere(t *testing.T) {
	app, _ := newLibrary(t)
	seedBooks(t, app, 1)
	verified := superuser(t, app)
	app.User("staff", true, false)
	app.Client().Enrol("staff")
	pending := app.Client()
	if r := pending.Password("staff", authtest.Password); r.Status != http.StatusOK {
		t.Fatalf("password step of an enrolled user: want 200 (token step), got %d", r.Status)
	}
	clients := []struct {
		name string
		c    *authtest.Client
	}{{"anonymous", app.Client()}, {"password only", pending}, {"verified", verified}}

	paths := 0
	for _, rt := range app.Engine.Routes() {
		if rt.Method != http.MethodGet {
			continue
		}
		path := strings.NewReplacer(":app", "library", ":model", "book", ":id", "1", ":page", "change", "*path", "css/gatehouse.css").Replace(rt.Path)
		paths++
		for _, cl := range clients {
			r := cl.c.Get(path)
			cc := r.Header.Get("Cache-Control")
			if strings.HasPrefix(rt.Path, "/static/") {
				if r.Status != http.StatusOK || cc != "public, max-age=3600" {
					t.Errorf("%s GET %s: a static file should be cacheable: %d %q", cl.name, path, r.Status, cc)
				}
				continue
			}
			if cc != "no-store" {
				t.Errorf("%s GET %s (%d): Cache-Control %q, want no-store", cl.name, path, r.Status, cc)
			}
		}
	}
	if paths < 15 {
		t.Fatalf("route walk found only %d GET routes", paths)
	}
	for _, cl := range clients {
		for _, r := range []*authtest.Response{
			cl.c.Get("/no/such/page/"),
			cl.c.Post("/account/login/", "login_view-current_step", "auth", "auth-username", "nobody", "auth-password", "wrong"),
		} {
			if cc := r.Header.Get("Cache-Control"); cc != "no-store" {
				t.Errorf("%s: answer %d has Cache-Control %q, want no-store", cl.name, r.Status, cc)
			}
		}
	}
	if r := verified.Post("/account/logout/"); r.Status != http.StatusSeeOther || r.Header.Get("Cache-Control") != "no-store" {
		t.Errorf("logout: want a no-store 303, got %d %q", r.Status, r.Header.Get("Cache-Control"))
	}
}
