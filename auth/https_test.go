package auth_test

import (
	"crypto/tls"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/gatehouse/gatehouse/auth"
	"github.com/gatehouse/gatehouse/auth/authtest"
	"github.com/gatehouse/gatehouse/auth/session"
)

// browser is a client that keeps cookies by name whatever their Secure
// flag (a cookie jar would not send a Secure cookie to an http:// URL, but
// behind a TLS proxy the browser does), and sends fixed extra headers, such
// as the X-Forwarded-Proto a proxy adds.
type browser struct {
	t       *testing.T
	base    string
	cl      *http.Client
	headers []string
	cookies map[string]*http.Cookie // by name, as last set
}

func newBrowser(t *testing.T, srv *httptest.Server, headers ...string) *browser {
	cl := &http.Client{
		Transport:     &http.Transport{TLSClientConfig: &tls.Config{InsecureSkipVerify: true}}, //nolint:gosec // test server
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
	return &browser{t: t, base: srv.URL, cl: cl, headers: headers, cookies: map[string]*http.Cookie{}}
}

func (b *browser) do(method, path string, form url.Values) *authtest.Response {
	b.t.Helper()
	var body io.Reader
	if form != nil {
		body = strings.NewReader(form.Encode())
	}
	req, err := http.NewRequest(method, b.base+path, body)
	if err != nil {
		b.t.Fatal(err)
	}
	if form != nil {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	for i := 0; i+1 < len(b.headers); i += 2 {
		req.Header.Set(b.headers[i], b.headers[i+1])
	}
	for _, c := range b.cookies {
		req.AddCookie(&http.Cookie{Name: c.Name, Value: c.Value})
	}
	res, err := b.cl.Do(req)
	if err != nil {
		b.t.Fatalf("%s %s: %v", method, path, err)
	}
	defer res.Body.Close()
	raw, _ := io.ReadAll(res.Body)
	for _, c := range res.Cookies() {
		if c.MaxAge < 0 {
			delete(b.cookies, c.Name)
		} else {
			b.cookies[c.Name] = c
		}
	}
	return &authtest.Response{Status: res.StatusCode, Header: res.Header, Body: string(raw)}
}

func (b *browser) post(path string, fields ...string) *authtest.Response {
	b.t.Helper()
	return b.do(http.MethodPost, path, authtest.Form(fields...))
}

// sessionCookie is the session cookie the browser holds: plain or __Host-.
func (b *browser) sessionCookie() *http.Cookie {
	if c := b.cookies[session.HostPrefix+auth.SessionCookie]; c != nil {
		return c
	}
	return b.cookies[auth.SessionCookie]
}

var secretInPage = regexp.MustCompile(`id="totp-secret"[^>]*>([^<]+)<`)

// TestHTTPSBehindProxy: a request that is https — TLS to this process, or
// "X-Forwarded-Proto: https" from a trusted proxy — gets Secure cookies,
// the __Host- session cookie, and Strict-Transport-Security; the same
// header from anyone else changes nothing. The whole login runs in each
// case, so the session cookie is also read back under the same rule.
func TestHTTPSBehindProxy(t *testing.T) {
	const year = "max-age=31536000"
	cases := []struct {
		name    string
		tls     bool
		trusted []string
		headers []string
		config  func(*auth.Config)
		https   bool   // Secure cookies with the __Host- session cookie
		hsts    string // the header's value, "" for none
	}{
		{"plain http", false, nil, nil, nil, false, ""},
		{"direct TLS", true, nil, nil, nil, true, year},
		{"trusted proxy says https", false, []string{"127.0.0.1"}, []string{"X-Forwarded-Proto", "https"}, nil, true, year},
		{"trusted proxy prefix says HTTPS", false, []string{"10.0.0.0/8", "127.0.0.0/8"}, []string{"X-Forwarded-Proto", "HTTPS"}, nil, true, year},
		{"trusted proxy says http", false, []string{"127.0.0.1"}, []string{"X-Forwarded-Proto", "http"}, nil, false, ""},
		{"untrusted client spoofs https", false, nil, []string{"X-Forwarded-Proto", "https"}, nil, false, ""},
		{"client outside the trusted prefix spoofs https", false, []string{"10.0.0.0/8"}, []string{"X-Forwarded-Proto", "https"}, nil, false, ""},
		{"TLS, HSTS off", true, nil, nil, func(c *auth.Config) { c.HSTSMaxAge = -1 }, true, ""},
		{"TLS, HSTS ten minutes", true, nil, nil, func(c *auth.Config) { c.HSTSMaxAge = 10 * time.Minute }, true, "max-age=600"},
		{"trusted proxy, HSTS off", false, []string{"127.0.0.1"}, []string{"X-Forwarded-Proto", "https"},
			func(c *auth.Config) { c.HSTSMaxAge = -1 }, true, ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			app := authtest.New(t, authtest.Options{Config: func(c *auth.Config) {
				c.TrustedProxies = tc.trusted
				c.RememberCookieAge = time.Hour
				if tc.config != nil {
					tc.config(c)
				}
			}})
			app.User("ana", true, false)
			srv := app.Server
			if tc.tls {
				srv = httptest.NewTLSServer(auth.Handler(app.Engine))
				t.Cleanup(srv.Close)
			}
			wantName := auth.SessionCookie
			if tc.https {
				wantName = session.HostPrefix + auth.SessionCookie
			}
			check := func(what string, r *authtest.Response) {
				t.Helper()
				if got := r.Header.Get("Strict-Transport-Security"); got != tc.hsts {
					t.Errorf("%s: Strict-Transport-Security %q, want %q", what, got, tc.hsts)
				}
				for _, c := range r.Header.Values("Set-Cookie") {
					if strings.Contains(c, "Secure") != tc.https {
						t.Errorf("%s: cookie %q: Secure must be %v", what, c, tc.https)
					}
				}
			}

			// Enrolment, as a new user is forced to.
			b := newBrowser(t, srv, tc.headers...)
			r := b.post("/account/login/", "login_view-current_step", "auth", "auth-username", "ana", "auth-password", authtest.Password)
			if r.Status != http.StatusSeeOther || r.Location() != "/account/two_factor/setup/" {
				t.Fatalf("password step: want 303 to setup, got %d %q", r.Status, r.Location())
			}
			check("password step", r)
			if c := b.sessionCookie(); c == nil || c.Name != wantName {
				t.Fatalf("session cookie: want %s, got %v", wantName, r.Header.Values("Set-Cookie"))
			}
			r = b.post("/account/two_factor/setup/", "setup_view-current_step", "welcome")
			m := secretInPage.FindStringSubmatch(r.Body)
			if r.Status != http.StatusOK || m == nil {
				t.Fatalf("the session cookie was not read back: want the generator step, got %d", r.Status)
			}
			secret := strings.ReplaceAll(m[1], " ", "")
			r = b.post("/account/two_factor/setup/", "setup_view-current_step", "generator", "generator-token", app.Code(secret, 0))
			if r.Status != http.StatusSeeOther || r.Location() != "/account/two_factor/setup/complete/" {
				t.Fatalf("confirming token: want 303 to complete, got %d %q", r.Status, r.Location())
			}
			check("setup", r)
			app.Clock.Advance(time.Minute)

			// A login that ticks "remember this browser".
			b = newBrowser(t, srv, tc.headers...)
			r = b.do(http.MethodGet, "/account/login/", nil)
			if r.Status != http.StatusOK {
				t.Fatalf("login page: %d", r.Status)
			}
			check("login page", r)
			b.post("/account/login/", "login_view-current_step", "auth", "auth-username", "ana", "auth-password", authtest.Password)
			r = b.post("/account/login/", "login_view-current_step", "token", "token-otp_token", app.Code(secret, 0), "token-remember", "on")
			if r.Status != http.StatusSeeOther || r.Location() != "/account/two_factor/" {
				t.Fatalf("token step: want 303 to the profile, got %d %q", r.Status, r.Location())
			}
			check("token step", r)
			remembered := false
			for name := range b.cookies {
				remembered = remembered || strings.HasPrefix(name, "remember-cookie_")
			}
			if !remembered {
				t.Errorf("no remember cookie after ticking the box: %v", r.Header.Values("Set-Cookie"))
			}
			if c := b.sessionCookie(); c == nil || c.Name != wantName {
				t.Fatalf("session cookie after login: want %s, got %v", wantName, b.cookies)
			}
			if r := b.do(http.MethodGet, "/account/two_factor/", nil); r.Status != http.StatusOK {
				t.Fatalf("profile with the verified session: want 200, got %d %q", r.Status, r.Location())
			}

			// Behind the proxy, the same cookie on a request that is not
			// https is not the session: the name follows the scheme.
			if tc.https && !tc.tls {
				b.headers = nil
				r := b.do(http.MethodGet, "/account/two_factor/", nil)
				if r.Status != http.StatusSeeOther || r.Location() != "/account/login/?next=%2Faccount%2Ftwo_factor%2F" {
					t.Errorf("__Host- cookie over plain http: want 303 to the login page, got %d %q", r.Status, r.Location())
				}
			}
		})
	}
}
