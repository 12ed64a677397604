// Package authtest builds a real Gatehouse site for tests: a fresh database
// (SQLite, or PostgreSQL/MySQL when configured), a fake clock, the real Gin
// engine behind httptest, and browser-like clients with cookie jars.
package authtest

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/pquerna/otp"
	"github.com/pquerna/otp/totp"
	"gorm.io/gorm"

	"github.com/gatehouse/gatehouse/auth"
	"github.com/gatehouse/gatehouse/auth/session"
	"github.com/gatehouse/gatehouse/internal/clock"
	"github.com/gatehouse/gatehouse/internal/testenv"
)

// Epoch is the fake clock's start.
var Epoch = time.Date(2026, 1, 5, 12, 0, 0, 0, time.UTC)

// Password is the test users' password.
const Password = "correct horse battery"

// Options shape a test app.
type Options struct {
	DB     testenv.DB                       // zero: SQLite
	Config func(*auth.Config)               // adjust settings
	Mount  func(*auth.Service, *gin.Engine) // add routes (the admin)
	// Setup runs after auth.New, before Migrate and Engine: register
	// second-factor methods (WebAuthn, SMS, ...) here.
	Setup func(*auth.Service) error
}

// App is a running test site.
type App struct {
	T       testing.TB
	Service *auth.Service
	Clock   *clock.Fake
	DB      *gorm.DB
	Server  *httptest.Server
	Engine  *gin.Engine
	opts    Options
}

// New starts a test site.
func New(t testing.TB, o Options) *App {
	t.Helper()
	quiet()
	if o.DB.Name == "" {
		o.DB.Name = "sqlite"
	}
	return start(t, o, testenv.Open(t, o.DB), clock.NewFake(Epoch), true)
}

// Twin starts a second instance of the site over the same database, clock
// and secret key, as a second backend behind a load balancer: nothing it
// shares with the first lives in process memory.
func (a *App) Twin() *App {
	a.T.Helper()
	return start(a.T, a.opts, a.DB, a.Clock, false)
}

func start(t testing.TB, o Options, db *gorm.DB, clk *clock.Fake, migrate bool) *App {
	t.Helper()
	cfg := auth.Defaults()
	cfg.SecretKey = []byte("test-secret-key-test-secret-key-0123456789")
	cfg.Clock = clk
	if o.Config != nil {
		o.Config(&cfg)
	}
	s, err := auth.New(db, cfg)
	if err != nil {
		t.Fatalf("auth.New: %v", err)
	}
	// Cheap hashing keeps suites fast; production parameters are in auth.DefaultArgon2.
	s.Hasher().Params = auth.Argon2Params{Memory: 1024, Time: 1, Threads: 1}
	if o.Setup != nil {
		if err := o.Setup(s); err != nil {
			t.Fatalf("setup: %v", err)
		}
	}
	if migrate {
		if err := s.Migrate(context.Background()); err != nil {
			t.Fatalf("migrate: %v", err)
		}
	}
	e := s.Engine()
	if o.Mount != nil {
		o.Mount(s, e)
	}
	srv := httptest.NewServer(auth.Handler(e))
	t.Cleanup(srv.Close)
	return &App{T: t, Service: s, Clock: clk, DB: db, Server: srv, Engine: e, opts: o}
}

var quietOnce sync.Once

// quiet drops the access log unless the tests run with -v.
func quiet() {
	quietOnce.Do(func() {
		if !testing.Verbose() {
			slog.SetDefault(slog.New(slog.NewTextHandler(io.Discard, nil)))
		}
	})
}

// URL is the site's base URL on localhost (a valid WebAuthn RP ID).
func (a *App) URL() string {
	return strings.Replace(a.Server.URL, "127.0.0.1", "localhost", 1)
}

// User creates a user with Password.
func (a *App) User(name string, staff, super bool) *auth.User {
	a.T.Helper()
	u, err := a.Service.CreateUser(context.Background(), auth.NewUser{Username: name, Email: name + "@example.com", Password: Password, Staff: staff, Superuser: super})
	if err != nil {
		a.T.Fatalf("create user %s: %v", name, err)
	}
	return u
}

// Code is the TOTP code of secret (base32, spaces allowed) at the fake time
// plus offset steps.
func (a *App) Code(secret string, offset int) string {
	a.T.Helper()
	c, err := totp.GenerateCodeCustom(strings.ReplaceAll(secret, " ", ""), a.Clock.Now().Add(time.Duration(offset)*30*time.Second),
		totp.ValidateOpts{Period: 30, Digits: otp.DigitsSix, Algorithm: otp.AlgorithmSHA1})
	if err != nil {
		a.T.Fatalf("totp: %v", err)
	}
	return c
}

// Client is a browser-like client: a cookie jar, no automatic redirects.
type Client struct {
	app  *App
	HTTP *http.Client
	Jar  *cookiejar.Jar
}

// Client returns a new client with an empty jar.
func (a *App) Client() *Client {
	jar, _ := cookiejar.New(nil)
	return &Client{app: a, Jar: jar, HTTP: &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error {
		return http.ErrUseLastResponse
	}}}
}

// Via returns a client with the same cookie jar that talks to app (a twin
// instance): one browser whose requests a load balancer spreads.
func (c *Client) Via(app *App) *Client {
	return &Client{app: app, Jar: c.Jar, HTTP: c.HTTP}
}

// Response is a read response.
type Response struct {
	Status int
	Header http.Header
	Body   string
}

// Location is the redirect target: Location, or HX-Redirect for htmx.
func (r *Response) Location() string {
	if l := r.Header.Get("HX-Redirect"); l != "" {
		return l
	}
	return r.Header.Get("Location")
}

// ToLogin is where a guarded page sends a visitor whose session is not
// verified: the login page, with the page as next. Negative tests compare
// the exact Location with it, so an error page can never pass for a refusal.
func ToLogin(next string) string { return "/account/login/?next=" + url.QueryEscape(next) }

// Do sends a request; headers are name, value pairs.
func (c *Client) Do(method, path string, body io.Reader, headers ...string) *Response {
	c.app.T.Helper()
	req, err := http.NewRequest(method, c.app.Server.URL+path, body)
	if err != nil {
		c.app.T.Fatalf("request: %v", err)
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	for i := 0; i+1 < len(headers); i += 2 {
		req.Header.Set(headers[i], headers[i+1])
	}
	res, err := c.HTTP.Do(req)
	if err != nil {
		c.app.T.Fatalf("%s %s: %v", method, path, err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return &Response{Status: res.StatusCode, Header: res.Header, Body: string(b)}
}

// Get fetches path.
func (c *Client) Get(path string, headers ...string) *Response {
	c.app.T.Helper()
	return c.Do(http.MethodGet, path, nil, headers...)
}

// Post posts form fields given as name, value pairs.
func (c *Client) Post(path string, fields ...string) *Response {
	c.app.T.Helper()
	return c.PostForm(path, Form(fields...))
}

// PostForm posts a form.
func (c *Client) PostForm(path string, f url.Values, headers ...string) *Response {
	c.app.T.Helper()
	return c.Do(http.MethodPost, path, strings.NewReader(f.Encode()), headers...)
}

// Form builds url.Values from name, value pairs.
func Form(fields ...string) url.Values {
	f := url.Values{}
	for i := 0; i+1 < len(fields); i += 2 {
		f.Add(fields[i], fields[i+1])
	}
	return f
}

// SessionCookie returns the session cookie's value (plain, or with the
// __Host- prefix it has over https), "" when none.
func (c *Client) SessionCookie() string {
	u, _ := url.Parse(c.app.Server.URL)
	for _, ck := range c.Jar.Cookies(u) {
		if ck.Name == auth.SessionCookie || ck.Name == session.HostPrefix+auth.SessionCookie {
			return ck.Value
		}
	}
	return ""
}

// SetSessionCookie plants a session cookie value (to replay an old one).
func (c *Client) SetSessionCookie(v string) {
	u, _ := url.Parse(c.app.Server.URL)
	c.Jar.SetCookies(u, []*http.Cookie{{Name: auth.SessionCookie, Value: v, Path: "/"}})
}

// Password posts the password step.
func (c *Client) Password(username, password string) *Response {
	c.app.T.Helper()
	return c.Post("/account/login/", "login_view-current_step", "auth", "auth-username", username, "auth-password", password)
}

var secretRE = regexp.MustCompile(`id="totp-secret"[^>]*>([^<]+)<`)

// Secret extracts the TOTP secret shown in #totp-secret.
func Secret(body string) string {
	m := secretRE.FindStringSubmatch(body)
	if m == nil {
		return ""
	}
	return strings.ReplaceAll(m[1], " ", "")
}

// Enrol logs in with the password, goes through forced enrolment and
// returns the TOTP secret; the client ends verified.
func (c *Client) Enrol(username string) string {
	t := c.app.T
	t.Helper()
	if r := c.Password(username, Password); r.Location() != "/account/two_factor/setup/" {
		t.Fatalf("password step of a user without devices: want forced enrolment, got %d %q", r.Status, r.Location())
	}
	r := c.Post("/account/two_factor/setup/", "setup_view-current_step", "welcome")
	secret := Secret(r.Body)
	if secret == "" {
		t.Fatalf("generator step shows no #totp-secret: %d %s", r.Status, r.Body)
	}
	r = c.Post("/account/two_factor/setup/", "setup_view-current_step", "generator", "generator-token", c.app.Code(secret, 0))
	if r.Location() != "/account/two_factor/setup/complete/" {
		t.Fatalf("confirming token: want setup complete, got %d %q %s", r.Status, r.Location(), r.Body)
	}
	return secret
}

// Login runs password and token steps with the code at offset steps and
// fails the test unless it ends verified.
func (c *Client) Login(username, secret string, offset int) {
	t := c.app.T
	t.Helper()
	r := c.Password(username, Password)
	if !strings.Contains(r.Body, `name="token-otp_token"`) {
		t.Fatalf("password step: want token step, got %d %s", r.Status, r.Body)
	}
	r = c.Post("/account/login/", "login_view-current_step", "token", "token-otp_token", c.app.Code(secret, offset))
	if r.Status != http.StatusSeeOther {
		t.Fatalf("token step: want 303, got %d %s", r.Status, r.Body)
	}
}

// Race runs n copies of f behind a barrier, so they start as close to
// together as the scheduler allows, and waits for all of them.
func Race(n int, f func(i int)) {
	var start, done sync.WaitGroup
	start.Add(1)
	for i := range n {
		done.Add(1)
		go func() {
			defer done.Done()
			start.Wait()
			f(i)
		}()
	}
	start.Done()
	done.Wait()
}
