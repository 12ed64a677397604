package auth_test

import (
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/gatehouse/gatehouse/auth"
	"github.com/gatehouse/gatehouse/auth/authtest"
)

const loginURL = "/account/login/"

// passwordFrom posts the password step as if from addr, through the
// trusted proxy's X-Forwarded-For.
func passwordFrom(c *authtest.Client, addr, username, password string) *authtest.Response {
	return c.PostForm(loginURL, authtest.Form("login_view-current_step", "auth", "auth-username", username,
		"auth-password", password), "X-Forwarded-For", addr)
}

func behindProxy(o authtest.Options) authtest.Options {
	o.Config = func(c *auth.Config) { c.TrustedProxies = []string{"127.0.0.1", "::1"} }
	return o
}

const (
	tokenField     = `name="token-otp_token"`
	throttleNotice = "Verification is paused after"
)

// TestNameUnderAttackKnownBrowserLogsIn: 200 wrong passwords for a name
// from 50 addresses lock the name for unknown browsers, but the browser
// the user signed in with before gets through with the right password at
// the first try.
func TestNameUnderAttackKnownBrowserLogsIn(t *testing.T) {
	forEachDB(t, func(t *testing.T, o authtest.Options) {
		app := authtest.New(t, behindProxy(o))
		app.User("ana", true, false)
		home := app.Client()
		home.Enrol("ana") // a completed login: this browser gets its device cookie
		if r := home.Post("/account/logout/"); r.Status != http.StatusSeeOther {
			t.Fatalf("logout: %d", r.Status)
		}
		app.Clock.Advance(time.Minute)

		attacker := app.Client()
		for i := range 200 {
			addr := fmt.Sprintf("203.0.113.%d", i%50+1)
			if r := passwordFrom(attacker, addr, "ana", "wrong password"); r.Status != http.StatusOK || strings.Contains(r.Body, tokenField) {
				t.Fatalf("wrong password %d: %d", i, r.Status)
			}
		}
		r := passwordFrom(app.Client(), "198.51.100.7", "ana", authtest.Password)
		if r.Status != http.StatusOK || !strings.Contains(r.Body, throttleNotice) || strings.Contains(r.Body, tokenField) {
			t.Fatalf("unknown browser, right password, name under attack: want 200 with the throttle message, got %d", r.Status)
		}
		r = passwordFrom(home, "198.51.100.8", "ana", authtest.Password)
		if r.Status != http.StatusOK || !strings.Contains(r.Body, tokenField) {
			t.Fatalf("known browser, right password: want the token step at the first try, got %d %s", r.Status, r.Body)
		}
	})
}

// TestDeviceCookieBudgetAndForgery: a device cookie has a budget of its
// own (guessing through it is throttled too); a forged or foreign one is
// ignored, never a 500.
func TestDeviceCookieBudgetAndForgery(t *testing.T) {
	app := authtest.New(t, behindProxy(authtest.Options{}))
	app.User("ana", true, false)
	app.User("bob", true, false)
	home := app.Client()
	home.Enrol("ana")
	home.Post("/account/logout/")
	var name, value string
	for _, ck := range home.HTTP.Jar.Cookies(mustURL(t, app.Server.URL)) {
		if strings.HasPrefix(ck.Name, "gatehouse_device_") {
			name, value = ck.Name, ck.Value
		}
	}
	if name == "" {
		t.Fatal("a completed login sets no device cookie")
	}
	for i := range 5 { // PasswordUserFree: the fifth failure starts the wait
		if r := passwordFrom(home, fmt.Sprintf("203.0.113.%d", i+1), "ana", "wrong"); r.Status != http.StatusOK || strings.Contains(r.Body, throttleNotice) {
			t.Fatalf("failure %d: %d", i, r.Status)
		}
	}
	if r := passwordFrom(home, "203.0.113.10", "ana", authtest.Password); r.Status != http.StatusOK || !strings.Contains(r.Body, throttleNotice) {
		t.Fatalf("the device cookie's own budget must back off: %d", r.Status)
	}
	// Another browser is not affected by the cookie's budget.
	if r := passwordFrom(app.Client(), "198.51.100.1", "ana", authtest.Password); r.Status != http.StatusOK || !strings.Contains(r.Body, tokenField) {
		t.Fatalf("unknown browser after guesses through a device cookie: want the token step, got %d", r.Status)
	}
	for _, v := range []string{"", "x", "x.y", value + "A", strings.Repeat("A", 5000), "ZDF8MXw5OTk5OTk5OTk5fG58YW5h.AAAA", value[:len(value)-2] + "AA"} {
		c := app.Client()
		c.Jar.SetCookies(mustURL(t, app.Server.URL), []*http.Cookie{{Name: name, Value: v, Path: "/"}})
		if r := passwordFrom(c, "198.51.100.2", "ana", "wrong"); r.Status != http.StatusOK {
			t.Fatalf("device cookie %.20q: want 200, got %d", v, r.Status)
		}
	}
	// Ana's cookie presented for bob counts nothing for ana's cookie.
	c := app.Client()
	c.Jar.SetCookies(mustURL(t, app.Server.URL), []*http.Cookie{{Name: name, Value: value, Path: "/"}})
	if r := passwordFrom(c, "198.51.100.3", "bob", authtest.Password); r.Status != http.StatusSeeOther || r.Location() != "/account/two_factor/setup/" {
		t.Fatalf("bob with ana's device cookie: want 303 to forced enrolment, got %d %q", r.Status, r.Location())
	}
}

// TestAddressRefusalLeavesNameAlone: requests refused by the per-address
// budget write nothing: no row for the name, no count.
func TestAddressRefusalLeavesNameAlone(t *testing.T) {
	forEachDB(t, func(t *testing.T, o authtest.Options) {
		o = behindProxy(o)
		o.Config = func(c *auth.Config) { c.TrustedProxies, c.PasswordIPFree = []string{"127.0.0.1", "::1"}, 3 }
		app := authtest.New(t, o)
		app.User("ana", true, false)
		app.Client().Enrol("ana")
		app.Clock.Advance(time.Minute)
		attacker := app.Client()
		for range 3 {
			passwordFrom(attacker, "203.0.113.1", "zed", "wrong")
		}
		before := throttleState(t, app)
		for range 20 {
			r := passwordFrom(attacker, "203.0.113.1", "ana", "wrong")
			if r.Status != http.StatusOK || !strings.Contains(r.Body, throttleNotice) {
				t.Fatalf("the address is over its budget: want 200 with the throttle message, got %d", r.Status)
			}
		}
		if after := throttleState(t, app); after != before {
			t.Fatalf("refused by the address, the throttle table changed: %s -> %s", before, after)
		}
		if r := passwordFrom(app.Client(), "198.51.100.1", "ana", authtest.Password); r.Status != http.StatusOK || !strings.Contains(r.Body, tokenField) {
			t.Fatalf("ana from elsewhere: want the token step, got %d", r.Status)
		}
	})
}

// throttleState sums up the throttle table.
func throttleState(t *testing.T, app *authtest.App) string {
	t.Helper()
	var st struct{ N, F, W int64 }
	if err := app.DB.Raw("SELECT COUNT(*) AS n, COALESCE(SUM(failures), 0) AS f, COALESCE(SUM(next_at), 0) AS w FROM gatehouse_throttle").Scan(&st).Error; err != nil {
		t.Fatal(err)
	}
	return fmt.Sprintf("%d rows, %d failures, next_at sum %d", st.N, st.F, st.W)
}

func mustURL(t *testing.T, s string) *url.URL {
	t.Helper()
	u, err := url.Parse(s)
	if err != nil {
		t.Fatal(err)
	}
	return u
}

// TestThrottleKeysRehashedOnUpgrade: rows named before keys were hashed
// keep an account's lock across the upgrade; stale password-step rows go.
func TestThrottleKeysRehashedOnUpgrade(t *testing.T) {
	app := authtest.New(t, authtest.Options{})
	bob := app.User("bob", true, false)
	secret := app.Client().Enrol("bob")
	app.Clock.Advance(time.Minute)
	far := app.Clock.Now().Add(time.Hour).UnixMilli()
	for _, row := range []struct {
		name     string
		failures int
		next     int64
	}{{fmt.Sprintf("account/%d", bob.ID), 100, 0}, {"login-user/bob", 50, far}, {"login-ip/127.0.0.1", 1000, far}, {"budget/x/1", 3, 0}} {
		if err := app.DB.Exec("INSERT INTO gatehouse_throttle (name, failures, next_at, expires_at) VALUES (?, ?, ?, 0)", row.name, row.failures, row.next).Error; err != nil {
			t.Fatal(err)
		}
	}
	if err := app.Service.Migrate(t.Context()); err != nil {
		t.Fatal(err)
	}
	var legacy int64
	app.DB.Table("gatehouse_throttle").Where("name IN ?", []string{"login-user/bob", "login-ip/127.0.0.1", "budget/x/1", fmt.Sprintf("account/%d", bob.ID)}).Count(&legacy)
	if legacy != 0 {
		t.Fatalf("%d rows keep their old names", legacy)
	}
	c := app.Client()
	if r := c.Password("bob", authtest.Password); r.Status != http.StatusOK || !strings.Contains(r.Body, tokenField) {
		t.Fatalf("old password-step counts must be dropped: %d", r.Status)
	}
	if r := tokenPost(c, app.Code(secret, 0)); r.Status != http.StatusOK || !strings.Contains(r.Body, "locked") {
		t.Fatalf("an account locked before the upgrade must stay locked: %d", r.Status)
	}
}
