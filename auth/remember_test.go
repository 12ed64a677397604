package auth_test

import (
	"crypto/tls"
	"encoding/base64"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/gatehouse/gatehouse/auth"
	"github.com/gatehouse/gatehouse/auth/authtest"
)

const rememberAge = 30 * 24 * time.Hour

func rememberApp(t *testing.T, more ...func(*auth.Config)) *authtest.App {
	t.Helper()
	return authtest.New(t, authtest.Options{Config: func(c *auth.Config) {
		c.RememberCookieAge = rememberAge
		for _, f := range more {
			f(c)
		}
	}})
}

// rememberCookie returns the client's remember cookie for user (name, value).
func rememberCookie(t *testing.T, app *authtest.App, c *authtest.Client, user string) *http.Cookie {
	t.Helper()
	u, err := app.Service.UserByName(t.Context(), user)
	if err != nil {
		t.Fatal(err)
	}
	base, _ := url.Parse(app.Server.URL)
	name := app.Service.RememberCookieName(u)
	for _, ck := range c.Jar.Cookies(base) {
		if ck.Name == name {
			return ck
		}
	}
	return nil
}

func setCookie(app *authtest.App, c *authtest.Client, name, value string) {
	base, _ := url.Parse(app.Server.URL)
	c.Jar.SetCookies(base, []*http.Cookie{{Name: name, Value: value, Path: "/"}})
}

// rememberLogin logs in with the token step's box ticked.
func rememberLogin(t *testing.T, app *authtest.App, c *authtest.Client, user, secret string) *authtest.Response {
	t.Helper()
	r := c.Password(user, authtest.Password)
	if !strings.Contains(r.Body, `name="token-remember"`) {
		t.Fatalf("token step without the remember checkbox: %d %s", r.Status, r.Body)
	}
	r = c.Post("/account/login/", "login_view-current_step", "token", "token-otp_token", app.Code(secret, 0), "token-remember", "on")
	if r.Status != http.StatusSeeOther {
		t.Fatalf("remembered token step: want 303, got %d %s", r.Status, r.Body)
	}
	return r
}

// enrolled makes user with a TOTP device and returns its secret; the clock
// then moves on so the enrolment code is not the next one.
func enrolled(app *authtest.App, user string) string {
	app.User(user, true, false)
	secret := app.Client().Enrol(user)
	app.Clock.Advance(time.Minute)
	return secret
}

func lastEvent(t *testing.T, app *authtest.App, user string) auth.Event {
	t.Helper()
	u, _ := app.Service.UserByName(t.Context(), user)
	evs, err := app.Service.Events(t.Context(), u.ID, 1)
	if err != nil || len(evs) == 0 {
		t.Fatalf("no events for %s: %v", user, err)
	}
	return evs[0]
}

func isTokenStep(r *authtest.Response) bool {
	return r.Status == http.StatusOK && strings.Contains(r.Body, `name="token-otp_token"`)
}

func TestRememberBrowserSkipsTokenStep(t *testing.T) {
	app := rememberApp(t)
	secret := enrolled(app, "ana")
	c := app.Client()
	r := rememberLogin(t, app, c, "ana", secret)
	set := r.Header.Values("Set-Cookie")
	var raw string
	for _, h := range set {
		if strings.HasPrefix(h, "remember-cookie_") {
			raw = h
		}
	}
	for _, attr := range []string{"Path=/", "Max-Age=2592000", "HttpOnly", "SameSite=Lax"} {
		if !strings.Contains(raw, attr) {
			t.Errorf("remember cookie %q lacks %s", raw, attr)
		}
	}
	if strings.Contains(raw, "Secure") || strings.Contains(raw, "Domain=") {
		t.Errorf("plain-HTTP default cookie must be host-only and not Secure: %q", raw)
	}
	if strings.Contains(raw, "ana") {
		t.Errorf("the cookie leaks the username: %q", raw)
	}
	if e := lastEvent(t, app, "ana"); e.Kind != auth.EventRememberIssued || e.Device != "generator/1" {
		t.Errorf("issuing must be recorded: %+v", e)
	}

	// Log out, come back later: the password alone finishes the login.
	c.Post("/account/logout/")
	app.Clock.Advance(29 * 24 * time.Hour)
	r = c.Password("ana", authtest.Password)
	if r.Status != http.StatusSeeOther || r.Location() != "/account/two_factor/" {
		t.Fatalf("a remembered browser must skip the token step: %d %q", r.Status, r.Location())
	}
	if p := c.Get("/account/two_factor/"); p.Status != http.StatusOK {
		t.Fatalf("remembered login is not verified: %d", p.Status)
	}
	if e := lastEvent(t, app, "ana"); e.Kind != auth.EventLoginRemembered || e.Device != "generator/1" || e.IP != "127.0.0.1" {
		t.Errorf("remembered login must be recorded with device and IP: %+v", e)
	}

	// next is honoured, and an htmx password step gets HX-Redirect.
	c.Post("/account/logout/")
	f := authtest.Form("login_view-current_step", "auth", "auth-username", "ana", "auth-password", authtest.Password, "next", "/admin/")
	if r := c.PostForm("/account/login/", f, "HX-Request", "true"); r.Header.Get("HX-Redirect") != "/admin/" {
		t.Fatalf("remembered htmx login: want HX-Redirect /admin/, got %d %q", r.Status, r.Location())
	}

	// Another browser still gets the token step; unticked boxes set nothing.
	other := app.Client()
	other.Login("ana", secret, 0)
	if ck := rememberCookie(t, app, other, "ana"); ck != nil {
		t.Fatalf("a login without the box ticked set a remember cookie")
	}
	other.Post("/account/logout/")
	if r := other.Password("ana", authtest.Password); !isTokenStep(r) {
		t.Fatalf("a browser that was not remembered skipped the token step: %d", r.Status)
	}
}

func TestRememberOffByDefault(t *testing.T) {
	app := authtest.New(t, authtest.Options{})
	secret := enrolled(app, "ana")
	c := app.Client()
	r := c.Password("ana", authtest.Password)
	if strings.Contains(r.Body, "token-remember") || strings.Contains(r.Body, "ask again") {
		t.Fatal("the remember checkbox shows although GATEHOUSE_REMEMBER_COOKIE_AGE is off")
	}
	r = c.Post("/account/login/", "login_view-current_step", "token", "token-otp_token", app.Code(secret, 0), "token-remember", "on")
	if r.Status != http.StatusSeeOther || strings.Contains(strings.Join(r.Header.Values("Set-Cookie"), ";"), "remember-cookie_") {
		t.Fatalf("a posted token-remember must not set a cookie while the feature is off: %d", r.Status)
	}
}

// TestRememberBackupStepDoesNotRemember: only the token step offers it.
func TestRememberBackupStepDoesNotRemember(t *testing.T) {
	app := rememberApp(t)
	app.User("ana", true, false)
	e := app.Client()
	e.Enrol("ana")
	codes := backupCodes(e.Post("/account/two_factor/backup/tokens/").Body)
	c := app.Client()
	c.Password("ana", authtest.Password)
	r := c.Post("/account/login/", "login_view-current_step", "token", "wizard_goto_step", "backup")
	if strings.Contains(r.Body, "token-remember") {
		t.Error("the backup step offers to remember the browser")
	}
	r = c.Post("/account/login/", "login_view-current_step", "backup", "backup-otp_token", codes[0], "token-remember", "on")
	if r.Status != http.StatusSeeOther || rememberCookie(t, app, c, "ana") != nil {
		t.Fatalf("a backup-code login must not remember the browser: %d", r.Status)
	}
}

// TestRememberRefused: every kind of bad cookie is refused without a 500,
// deleted, recorded, and counted as a failed attempt, so the right code
// right after it is throttled.
func TestRememberRefused(t *testing.T) {
	type setup func(t *testing.T, app *authtest.App, c *authtest.Client, valid *http.Cookie) (user, password string)
	plant := func(value string) setup {
		return func(t *testing.T, app *authtest.App, c *authtest.Client, valid *http.Cookie) (string, string) {
			setCookie(app, c, valid.Name, value)
			return "ana", authtest.Password
		}
	}
	part := func(v string, i int) string { return strings.Split(v, ".")[i] }
	flip := func(s string) string {
		b := []byte(s)
		if b[len(b)/2] == 'A' {
			b[len(b)/2] = 'B'
		} else {
			b[len(b)/2] = 'A'
		}
		return string(b)
	}
	cases := []struct {
		name   string
		setup  setup
		detail string
	}{
		{"tampered payload", func(t *testing.T, app *authtest.App, c *authtest.Client, v *http.Cookie) (string, string) {
			return plant(flip(part(v.Value, 0))+"."+part(v.Value, 1))(t, app, c, v)
		}, "bad signature"},
		{"tampered signature", func(t *testing.T, app *authtest.App, c *authtest.Client, v *http.Cookie) (string, string) {
			return plant(part(v.Value, 0)+"."+flip(part(v.Value, 1)))(t, app, c, v)
		}, "bad signature"},
		{"forged payload for a longer expiry", func(t *testing.T, app *authtest.App, c *authtest.Client, v *http.Cookie) (string, string) {
			p, _ := base64.RawURLEncoding.DecodeString(part(v.Value, 0))
			f := strings.Split(string(p), "|")
			f[4] = "99999999999"
			return plant(base64.RawURLEncoding.EncodeToString([]byte(strings.Join(f, "|")))+"."+part(v.Value, 1))(t, app, c, v)
		}, "bad signature"},
		{"expired", func(t *testing.T, app *authtest.App, c *authtest.Client, v *http.Cookie) (string, string) {
			app.Clock.Advance(rememberAge + time.Second) // the jar keeps it: only the server can say no
			return "ana", authtest.Password
		}, "expired"},
		{"other user's cookie", func(t *testing.T, app *authtest.App, c *authtest.Client, v *http.Cookie) (string, string) {
			app.User("bo", true, false)
			app.Client().Enrol("bo")
			app.Clock.Advance(time.Minute)
			bo, _ := app.Service.UserByName(t.Context(), "bo")
			setCookie(app, c, app.Service.RememberCookieName(bo), v.Value)
			return "bo", authtest.Password
		}, "other user"},
		{"after password change", func(t *testing.T, app *authtest.App, c *authtest.Client, v *http.Cookie) (string, string) {
			u, _ := app.Service.UserByName(t.Context(), "ana")
			if err := app.Service.SetPassword(t.Context(), u, "a new long password"); err != nil {
				t.Fatal(err)
			}
			return "ana", "a new long password"
		}, "credentials changed"},
		{"after device removal and re-enrolment", func(t *testing.T, app *authtest.App, c *authtest.Client, v *http.Cookie) (string, string) {
			// Staff delete the device row (no epoch change); the user enrols a new one.
			if err := app.DB.Where("user_id = ?", 1).Delete(&auth.TOTPDevice{}).Error; err != nil {
				t.Fatal(err)
			}
			app.Client().Enrol("ana")
			app.Clock.Advance(time.Minute)
			return "ana", authtest.Password
		}, "device removed"},
		{"malformed: garbage", plant("garbage"), "malformed"},
		{"malformed: no dot", plant(strings.Repeat("QUJD", 20)), "malformed"},
		{"malformed: two dots", func(t *testing.T, app *authtest.App, c *authtest.Client, v *http.Cookie) (string, string) {
			return plant(v.Value+"."+part(v.Value, 1))(t, app, c, v)
		}, "malformed"},
		{"malformed: not base64", plant("!!!!.####"), "malformed"},
		{"malformed: padded base64", func(t *testing.T, app *authtest.App, c *authtest.Client, v *http.Cookie) (string, string) {
			return plant(v.Value+"==")(t, app, c, v)
		}, "malformed"},
		{"malformed: short signature", func(t *testing.T, app *authtest.App, c *authtest.Client, v *http.Cookie) (string, string) {
			return plant(part(v.Value, 0)+"."+part(v.Value, 1)[:20])(t, app, c, v)
		}, "malformed"},
		{"malformed: empty payload", func(t *testing.T, app *authtest.App, c *authtest.Client, v *http.Cookie) (string, string) {
			return plant("."+part(v.Value, 1))(t, app, c, v)
		}, "malformed"},
		{"malformed: 3000 bytes", plant(strings.Repeat("A", 1500) + "." + strings.Repeat("B", 1499)), "malformed"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			app := rememberApp(t)
			secret := enrolled(app, "ana")
			c := app.Client()
			rememberLogin(t, app, c, "ana", secret)
			valid := rememberCookie(t, app, c, "ana")
			if valid == nil {
				t.Fatal("no remember cookie after a remembered login")
			}
			c.Post("/account/logout/")
			app.Clock.Advance(time.Minute)
			user, password := tc.setup(t, app, c, valid)
			u, _ := app.Service.UserByName(t.Context(), user)
			name := app.Service.RememberCookieName(u)

			r := c.Password(user, password)
			if !isTokenStep(r) {
				t.Fatalf("a bad cookie must leave the token step: %d %q %.300s", r.Status, r.Location(), r.Body)
			}
			deleted := false
			for _, h := range r.Header.Values("Set-Cookie") {
				if strings.HasPrefix(h, name+"=;") && strings.Contains(h, "Max-Age=0") {
					deleted = true
				}
			}
			if !deleted {
				t.Errorf("the refused cookie was not deleted: %q", r.Header.Values("Set-Cookie"))
			}
			if e := lastEvent(t, app, user); e.Kind != auth.EventRememberRefused || e.Detail != tc.detail {
				t.Errorf("want event remember_refused %q, got %+v", tc.detail, e)
			}
			// It counted as a failure: the right code at once is throttled.
			var code string
			if user == "ana" {
				code = app.Code(secret, 0)
				if tc.name == "after device removal and re-enrolment" {
					code = "" // the new device's secret is unknown here; the message is enough
				}
			}
			if code != "" {
				if r := tokenPost(c, code); r.Status != http.StatusOK || !strings.Contains(r.Body, "after 1 failed attempt") {
					t.Fatalf("a bad cookie must count as one failed attempt: %d", r.Status)
				}
			} else if r := tokenPost(c, "000000"); !strings.Contains(r.Body, "after 1 failed attempt") {
				t.Fatalf("a bad cookie must count as one failed attempt")
			}
		})
	}
}

// TestRememberSecretRotation: a cookie signed under an old site secret is
// worthless after the secret changes.
func TestRememberSecretRotation(t *testing.T) {
	old := rememberApp(t)
	secret := enrolled(old, "ana")
	oc := old.Client()
	rememberLogin(t, old, oc, "ana", secret)
	stale := rememberCookie(t, old, oc, "ana")

	// Same database contents (user 1, generator/1, epoch 1), new secret.
	app := rememberApp(t, func(c *auth.Config) { c.SecretKey = []byte("a-rotated-secret-key-a-rotated-secret-key") })
	enrolled(app, "ana")
	u, _ := app.Service.UserByName(t.Context(), "ana")
	if app.Service.RememberCookieName(u) == stale.Name {
		t.Error("the cookie name does not depend on the secret")
	}
	c := app.Client()
	setCookie(app, c, app.Service.RememberCookieName(u), stale.Value)
	if r := c.Password("ana", authtest.Password); !isTokenStep(r) {
		t.Fatalf("a cookie from before the secret rotation was accepted: %d", r.Status)
	}
	if e := lastEvent(t, app, "ana"); e.Kind != auth.EventRememberRefused || e.Detail != "bad signature" {
		t.Fatalf("want remember_refused bad signature, got %+v", e)
	}
}

// TestRememberThrottledDeviceIgnoresValidCookie: a throttled device or a
// locked account ignores even a valid cookie, and keeps it for later.
func TestRememberThrottledDeviceIgnoresValidCookie(t *testing.T) {
	cases := []struct {
		name   string
		config func(*auth.Config)
		fails  int
		wait   time.Duration // after which the cookie works again; 0: never
	}{
		{"device back-off", nil, 2, 2 * time.Second},
		{"account cap", func(c *auth.Config) { c.TOTPThrottleFactor, c.AccountFailureCap = 0, 3 }, 3, 0},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			more := []func(*auth.Config){}
			if tc.config != nil {
				more = append(more, tc.config)
			}
			app := rememberApp(t, more...)
			secret := enrolled(app, "ana")
			c := app.Client()
			rememberLogin(t, app, c, "ana", secret)
			c.Post("/account/logout/")
			app.Clock.Advance(time.Minute)

			attacker := app.Client()
			attacker.Password("ana", authtest.Password)
			for i := range tc.fails {
				tokenPost(attacker, "000000")
				if i < tc.fails-1 {
					app.Clock.Advance(time.Duration(1<<i) * time.Second)
				}
			}
			r := c.Password("ana", authtest.Password)
			if !isTokenStep(r) {
				t.Fatalf("a throttled device accepted a remember cookie: %d %q", r.Status, r.Location())
			}
			if e := lastEvent(t, app, "ana"); e.Kind != auth.EventThrottled || !strings.Contains(e.Detail, "remember cookie ignored") {
				t.Errorf("want a throttled event, got %+v", e)
			}
			if strings.Contains(strings.Join(r.Header.Values("Set-Cookie"), "\n"), "remember-cookie_") {
				t.Errorf("a valid cookie was deleted because of throttling")
			}
			if tc.wait == 0 {
				return
			}
			app.Clock.Advance(tc.wait)
			c.Post("/account/login/", "login_view-current_step", "token", "wizard_goto_step", "auth")
			if r := c.Password("ana", authtest.Password); r.Status != http.StatusSeeOther {
				t.Fatalf("after the back-off the valid cookie must work again: %d %+v", r.Status, lastEvent(t, app, "ana"))
			}
		})
	}
}

// TestRememberAfterDisableForcesEnrolment: with no device left, the stale
// cookie is dropped and the user enrols again.
func TestRememberAfterDisableForcesEnrolment(t *testing.T) {
	app := rememberApp(t)
	secret := enrolled(app, "ana")
	c := app.Client()
	rememberLogin(t, app, c, "ana", secret)
	if r := c.Post("/account/two_factor/disable/", "understand", "on", "password", authtest.Password); r.Location() != "/account/login/" {
		t.Fatalf("disable: %d %q", r.Status, r.Location())
	}
	if r := c.Password("ana", authtest.Password); r.Location() != "/account/two_factor/setup/" {
		t.Fatalf("after disable a remember cookie must not log in: %d %q", r.Status, r.Location())
	}
	if rememberCookie(t, app, c, "ana") != nil {
		t.Error("the stale cookie was kept")
	}
	if e := lastEvent(t, app, "ana"); e.Kind != auth.EventRememberRefused || e.Detail != "device removed" {
		t.Errorf("want remember_refused device removed, got %+v", e)
	}
}

func TestRememberCookieSettings(t *testing.T) {
	cases := []struct {
		name    string
		config  func(*auth.Config)
		want    []string
		notWant []string
	}{
		{"defaults", nil, []string{"remember-cookie_", "Path=/;", "HttpOnly", "SameSite=Lax"}, []string{"Secure", "Domain="}},
		{"prefix, path, domain", func(c *auth.Config) {
			c.RememberCookiePrefix, c.RememberCookiePath, c.RememberCookieDomain = "rc-", "/account/", "127.0.0.1"
		}, []string{"rc-", "Path=/account/", "Domain=127.0.0.1"}, []string{"remember-cookie_"}},
		{"secure and strict", func(c *auth.Config) {
			c.RememberCookieSecure, c.RememberCookieSameSite = true, http.SameSiteStrictMode
		}, []string{"Secure", "SameSite=Strict"}, nil},
		{"session cookies secure", func(c *auth.Config) { c.CookieSecure = true }, []string{"Secure"}, nil},
		{"script access", func(c *auth.Config) { c.RememberCookieScriptAccess = true }, nil, []string{"HttpOnly"}},
		{"hours", func(c *auth.Config) { c.RememberCookieAge = 2 * time.Hour }, []string{"Max-Age=7200"}, nil},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			more := []func(*auth.Config){}
			if tc.config != nil {
				more = append(more, tc.config)
			}
			app := rememberApp(t, more...)
			secret := enrolled(app, "ana")
			c := app.Client()
			c.Password("ana", authtest.Password)
			r := c.Post("/account/login/", "login_view-current_step", "token", "token-otp_token", app.Code(secret, 0), "token-remember", "on")
			var raw string
			for _, h := range r.Header.Values("Set-Cookie") {
				if !strings.Contains(h, auth.SessionCookie+"=") { // plain or __Host- session cookie
					raw = h
				}
			}
			for _, w := range tc.want {
				if !strings.Contains(raw, w) {
					t.Errorf("cookie %q lacks %q", raw, w)
				}
			}
			for _, w := range tc.notWant {
				if strings.Contains(raw, w) {
					t.Errorf("cookie %q has %q", raw, w)
				}
			}
		})
	}
}

// TestRememberSecureOverTLS: over TLS the cookie is Secure whatever the settings.
func TestRememberSecureOverTLS(t *testing.T) {
	app := rememberApp(t)
	secret := enrolled(app, "ana")
	srv := httptest.NewTLSServer(auth.Handler(app.Engine))
	defer srv.Close()
	jar, _ := cookiejar.New(nil)
	cl := &http.Client{Jar: jar, Transport: &http.Transport{TLSClientConfig: &tls.Config{InsecureSkipVerify: true}}, //nolint:gosec // test server
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	post := func(f url.Values) *http.Response {
		res, err := cl.PostForm(srv.URL+"/account/login/", f)
		if err != nil {
			t.Fatal(err)
		}
		io.Copy(io.Discard, res.Body)
		res.Body.Close()
		return res
	}
	post(authtest.Form("login_view-current_step", "auth", "auth-username", "ana", "auth-password", authtest.Password))
	res := post(authtest.Form("login_view-current_step", "token", "token-otp_token", app.Code(secret, 0), "token-remember", "on"))
	found := false
	for _, h := range res.Header.Values("Set-Cookie") {
		if strings.HasPrefix(h, "remember-cookie_") {
			found = true
			if !strings.Contains(h, "Secure") {
				t.Errorf("remember cookie over TLS without Secure: %q", h)
			}
		}
	}
	if !found {
		t.Fatalf("no remember cookie over TLS: %d", res.StatusCode)
	}
}

func TestRememberCheckboxLabel(t *testing.T) {
	cases := []struct {
		age  time.Duration
		lang string
		want string
	}{
		{30 * 24 * time.Hour, "en", "Don&#39;t ask again on this device for 30 days"},
		{24 * time.Hour, "en", "for 1 day"},
		{36 * time.Hour, "en", "for 36 hours"},
		{time.Hour, "en", "for 1 hour"},
		{90 * time.Minute, "en", "for 90 minutes"},
		{90 * time.Second, "en", "for 90 seconds"},
		{24 * time.Hour, "de", "Auf diesem Gerät 1 Tag lang nicht mehr fragen"},
		{7 * 24 * time.Hour, "de", "7 Tage lang"},
		{24 * time.Hour, "he", "יום אחד"},
		{48 * time.Hour, "he", "יומיים"},
		{5 * 24 * time.Hour, "he", "5 ימים"},
		{2 * time.Minute, "he", "שתי דקות"},
	}
	for _, tc := range cases {
		t.Run(tc.lang+" "+tc.age.String(), func(t *testing.T) {
			app := authtest.New(t, authtest.Options{Config: func(c *auth.Config) { c.RememberCookieAge = tc.age }})
			enrolled(app, "ana")
			c := app.Client()
			c.Password("ana", authtest.Password)
			r := c.Get("/account/login/?lang=" + tc.lang)
			if !strings.Contains(r.Body, tc.want) || !strings.Contains(r.Body, `<label for="id_token-remember">`) {
				t.Fatalf("want %q in the labelled checkbox, got %s", tc.want, r.Body)
			}
		})
	}
}

func TestRememberConfigValidation(t *testing.T) {
	cases := []struct {
		name   string
		config func(*auth.Config)
		want   string // setting named in the error; "" for valid
	}{
		{"defaults", func(*auth.Config) {}, ""},
		{"age fraction", func(c *auth.Config) { c.RememberCookieAge = 1500 * time.Millisecond }, "GATEHOUSE_REMEMBER_COOKIE_AGE"},
		{"age negative", func(c *auth.Config) { c.RememberCookieAge = -time.Second }, "GATEHOUSE_REMEMBER_COOKIE_AGE"},
		{"prefix with space", func(c *auth.Config) { c.RememberCookiePrefix = "my cookie" }, "GATEHOUSE_REMEMBER_COOKIE_PREFIX"},
		{"prefix with =", func(c *auth.Config) { c.RememberCookiePrefix = "a=b" }, "GATEHOUSE_REMEMBER_COOKIE_PREFIX"},
		{"relative path", func(c *auth.Config) { c.RememberCookiePath = "account" }, "GATEHOUSE_REMEMBER_COOKIE_PATH"},
		{"path with ;", func(c *auth.Config) { c.RememberCookiePath = "/;secure" }, "GATEHOUSE_REMEMBER_COOKIE_PATH"},
		{"domain with ;", func(c *auth.Config) { c.RememberCookieDomain = "example.com;x" }, "GATEHOUSE_REMEMBER_COOKIE_DOMAIN"},
		{"samesite none insecure", func(c *auth.Config) { c.RememberCookieSameSite = http.SameSiteNoneMode }, "GATEHOUSE_REMEMBER_COOKIE_SAMESITE"},
		{"samesite none secure", func(c *auth.Config) {
			c.RememberCookieSameSite, c.RememberCookieSecure = http.SameSiteNoneMode, true
		}, ""},
		{"samesite bogus", func(c *auth.Config) { c.RememberCookieSameSite = 9 }, "GATEHOUSE_REMEMBER_COOKIE_SAMESITE"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			cfg := auth.Defaults()
			cfg.SecretKey = make([]byte, 32)
			tc.config(&cfg)
			err := cfg.Validate()
			switch {
			case tc.want == "" && err != nil:
				t.Fatalf("valid settings refused: %v", err)
			case tc.want != "" && (err == nil || !strings.Contains(err.Error(), tc.want)):
				t.Fatalf("want an error naming %s, got %v", tc.want, err)
			}
		})
	}
}

// TestRememberBadCookieWhileThrottled: a bad cookie that arrives while the
// device is throttled is still deleted and recorded, without evaluation.
func TestRememberBadCookieWhileThrottled(t *testing.T) {
	app := rememberApp(t)
	ana := app.User("ana", true, false)
	app.Client().Enrol("ana")
	app.Clock.Advance(time.Minute)
	attacker := app.Client()
	attacker.Password("ana", authtest.Password)
	tokenPost(attacker, "000000")

	c := app.Client()
	setCookie(app, c, app.Service.RememberCookieName(ana), "garbage")
	r := c.Password("ana", authtest.Password)
	if !isTokenStep(r) {
		t.Fatalf("want the token step: %d", r.Status)
	}
	if !strings.Contains(strings.Join(r.Header.Values("Set-Cookie"), "\n"), app.Service.RememberCookieName(ana)+"=;") {
		t.Errorf("the bad cookie was not deleted")
	}
	if e := lastEvent(t, app, "ana"); e.Kind != auth.EventRememberRefused || e.Detail != "malformed; throttled" {
		t.Errorf("want remember_refused while throttled, got %+v", e)
	}
}
