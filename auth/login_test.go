package auth_test

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/gatehouse/gatehouse/auth"
	"github.com/gatehouse/gatehouse/auth/authtest"
	"github.com/gatehouse/gatehouse/internal/testenv"
)

// forEachDB runs f against SQLite and, when configured, PostgreSQL and MySQL.
func forEachDB(t *testing.T, f func(t *testing.T, o authtest.Options)) {
	for _, d := range testenv.DBs(t) {
		t.Run(d.Name, func(t *testing.T) { f(t, authtest.Options{DB: d}) })
	}
}

func TestEnrolThenLogin(t *testing.T) {
	forEachDB(t, func(t *testing.T, o authtest.Options) {
		app := authtest.New(t, o)
		app.User("ana", true, false)
		c := app.Client()
		secret := c.Enrol("ana")
		if r := c.Get("/account/two_factor/"); r.Status != http.StatusOK || !strings.Contains(r.Body, "authenticator app") {
			t.Fatalf("after enrolment the session must be verified (no second login): %d", r.Status)
		}

		// The confirming token is consumed: replaying it at login fails.
		c2 := app.Client()
		c2.Password("ana", authtest.Password)
		r := c2.Post("/account/login/", "login_view-current_step", "token", "token-otp_token", app.Code(secret, 0))
		if r.Status != http.StatusOK || !strings.Contains(r.Body, "Invalid token") {
			t.Fatalf("the enrolment token was replayed into a login: %d", r.Status)
		}

		app.Clock.Advance(30 * time.Second)
		c3 := app.Client()
		c3.Login("ana", secret, 0)
		if r := c3.Get("/account/two_factor/"); r.Status != http.StatusOK {
			t.Fatalf("verified login cannot see the profile: %d", r.Status)
		}
	})
}

func TestPasswordAloneReachesNothing(t *testing.T) {
	app := authtest.New(t, authtest.Options{})
	app.User("ana", true, true)
	app.Client().Enrol("ana")
	p := app.Client()
	if r := p.Password("ana", authtest.Password); !strings.Contains(r.Body, `name="token-otp_token"`) {
		t.Fatalf("password step: want the token step, got %d", r.Status)
	}
	// Every verified page sends the pending login back to its token step,
	// and enrolment is not open to a user who has a device: no second
	// device without verification.
	cases := []struct{ path, location string }{
		{"/account/two_factor/", "/account/login/?next=%2Faccount%2Ftwo_factor%2F"},
		{"/account/two_factor/backup/tokens/", "/account/login/?next=%2Faccount%2Ftwo_factor%2Fbackup%2Ftokens%2F"},
		{"/account/two_factor/disable/", "/account/login/?next=%2Faccount%2Ftwo_factor%2Fdisable%2F"},
		{"/account/two_factor/setup/complete/", "/account/login/?next=%2Faccount%2Ftwo_factor%2Fsetup%2Fcomplete%2F"},
		{"/account/two_factor/setup/", "/account/login/?next=%2Faccount%2Ftwo_factor%2Fsetup%2F"},
	}
	for _, tc := range cases {
		if r := p.Get(tc.path); r.Status != http.StatusSeeOther || r.Location() != tc.location {
			t.Errorf("a password-only session at %s: want 303 to %s, got %d %q", tc.path, tc.location, r.Status, r.Location())
		}
	}
	if r := p.Get("/account/two_factor/qrcode/"); r.Status != http.StatusNotFound {
		t.Errorf("qrcode without a pending secret: want 404, got %d", r.Status)
	}
}

func TestPostedStepCannotSkip(t *testing.T) {
	app := authtest.New(t, authtest.Options{})
	app.User("ana", true, false)
	secret := app.Client().Enrol("ana")
	app.Clock.Advance(time.Minute)
	c := app.Client()
	// Token step posted without any password step: nothing is verified.
	r := c.Post("/account/login/", "login_view-current_step", "token", "token-otp_token", app.Code(secret, 0))
	if r.Status != http.StatusOK || !strings.Contains(r.Body, `name="auth-username"`) {
		t.Fatalf("a posted token step skipped the password step: %d %q", r.Status, r.Location())
	}
	// Backup step skipping via wizard_goto_step without a password: stays on auth.
	r = c.Post("/account/login/", "login_view-current_step", "auth", "wizard_goto_step", "backup")
	if !strings.Contains(r.Body, `name="auth-username"`) {
		t.Fatalf("wizard_goto_step=backup skipped the password step")
	}
}

func TestBadRequests(t *testing.T) {
	app := authtest.New(t, authtest.Options{})
	app.User("ana", true, false)
	c := app.Client()
	big := strings.Repeat("a", 10<<20)
	cases := []struct {
		name   string
		body   string
		ctype  string
		status int
	}{
		{"no current step", "auth-username=ana", "", 400},
		{"unknown step", "login_view-current_step=admin", "", 400},
		{"invalid UTF-8", "login_view-current_step=auth&auth-username=%ff%fe", "", 400},
		{"NUL byte", "login_view-current_step=auth&auth-username=a%00b", "", 400},
		{"10 MB body", "login_view-current_step=auth&x=" + big, "", 413},
		{"wrong type", "{}", "application/json", 400},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			h := []string{}
			if tc.ctype != "" {
				h = append(h, "Content-Type", tc.ctype)
			}
			r := c.Do(http.MethodPost, "/account/login/", strings.NewReader(tc.body), h...)
			if r.Status != tc.status {
				t.Fatalf("want %d, got %d: %.200s", tc.status, r.Status, r.Body)
			}
		})
	}
	t.Run("unknown device", func(t *testing.T) {
		c := app.Client()
		c.Enrol("ana")
		app.Clock.Advance(time.Minute)
		c2 := app.Client()
		c2.Password("ana", authtest.Password)
		for _, dev := range []string{"generator/999", "generator/01", "../1", "backup/1", "x"} {
			r := c2.Post("/account/login/", "login_view-current_step", "token", "challenge_device", dev)
			if r.Status != http.StatusBadRequest {
				t.Errorf("challenge_device=%q: want 400, got %d", dev, r.Status)
			}
		}
	})
}

func TestLoginTimeout(t *testing.T) {
	app := authtest.New(t, authtest.Options{})
	app.User("ana", true, false)
	secret := app.Client().Enrol("ana")
	app.Clock.Advance(time.Minute)
	c := app.Client()
	c.Password("ana", authtest.Password)
	app.Clock.Advance(601 * time.Second)
	r := c.Post("/account/login/", "login_view-current_step", "token", "token-otp_token", app.Code(secret, 0))
	if r.Status != http.StatusOK || !strings.Contains(r.Body, "took too long") || !strings.Contains(r.Body, `name="auth-username"`) {
		t.Fatalf("a token after the login timeout must return to the password step with a message: %d", r.Status)
	}
}

func TestLoginTimeoutDisabled(t *testing.T) {
	app := authtest.New(t, authtest.Options{Config: func(c *auth.Config) { c.LoginTimeout = 0 }})
	app.User("ana", true, false)
	secret := app.Client().Enrol("ana")
	c := app.Client()
	app.Clock.Advance(time.Minute)
	c.Password("ana", authtest.Password)
	app.Clock.Advance(20 * time.Minute) // within the 30 min idle limit
	r := c.Post("/account/login/", "login_view-current_step", "token", "token-otp_token", app.Code(secret, 0))
	if r.Status != http.StatusSeeOther {
		t.Fatalf("with GATEHOUSE_LOGIN_TIMEOUT=0 a late token must still work: %d", r.Status)
	}
}

func TestBackupCodeLogin(t *testing.T) {
	forEachDB(t, func(t *testing.T, o authtest.Options) {
		app := authtest.New(t, o)
		app.User("ana", true, false)
		c := app.Client()
		c.Enrol("ana")
		r := c.Post("/account/two_factor/backup/tokens/")
		codes := backupCodes(r.Body)
		if len(codes) != 10 {
			t.Fatalf("want 10 backup codes, got %d", len(codes))
		}
		if r.Header.Get("Cache-Control") != "no-store" || !strings.Contains(r.Body, `hx-history="false"`) {
			t.Errorf("fresh backup codes must be no-store and hx-history=false")
		}
		if r := c.Get("/account/two_factor/backup/tokens/"); strings.Contains(r.Body, codes[0]) {
			t.Errorf("backup codes shown again after generation")
		}
		var stored []auth.StaticToken
		app.DB.Find(&stored)
		for _, s := range stored {
			if s.Hash == codes[0] || strings.Contains(s.Hash, codes[0]) {
				t.Fatalf("backup code stored in clear")
			}
		}

		login := func(code string) *authtest.Response {
			c := app.Client()
			c.Password("ana", authtest.Password)
			c.Post("/account/login/", "login_view-current_step", "token", "wizard_goto_step", "backup")
			return c.Post("/account/login/", "login_view-current_step", "backup", "backup-otp_token", code)
		}
		if r := login(strings.ToUpper(codes[3][:4]) + " " + codes[3][4:]); r.Status != http.StatusSeeOther {
			t.Fatalf("backup code login failed: %d %s", r.Status, r.Body)
		}
		app.Clock.Advance(time.Minute)
		if r := login(codes[3]); r.Status != http.StatusOK || !strings.Contains(r.Body, "Invalid token") {
			t.Fatalf("a backup code used twice: want 200 with the form's error, got %d", r.Status)
		}
		app.Clock.Advance(time.Minute)
		if r := app.Client().Get("/account/two_factor/"); r.Status != http.StatusSeeOther || r.Location() != authtest.ToLogin("/account/two_factor/") {
			t.Fatalf("anonymous at the profile: want 303 to the login page, got %d %q", r.Status, r.Location())
		}
		c.Get("/account/two_factor/")
		if r := c.Get("/account/two_factor/"); !strings.Contains(r.Body, "9 backup codes left") {
			t.Errorf("profile must count 9 backup codes left")
		}
	})
}

func backupCodes(body string) []string {
	var out []string
	for _, part := range strings.Split(body, `class="backup-token">`)[1:] {
		out = append(out, part[:strings.Index(part, "<")])
	}
	return out
}

func TestDisable(t *testing.T) {
	app := authtest.New(t, authtest.Options{})
	app.User("ana", true, false)
	c := app.Client()
	c.Enrol("ana")
	other := app.Client()
	app.Clock.Advance(time.Minute)

	if r := c.Post("/account/two_factor/disable/", "password", authtest.Password); r.Status != http.StatusOK || !strings.Contains(r.Body, "Tick the box") {
		t.Fatalf("disable without understand must refuse: %d", r.Status)
	}
	if r := c.Post("/account/two_factor/disable/", "understand", "on", "password", "wrong password!!"); !strings.Contains(r.Body, "not correct") {
		t.Fatalf("disable with a wrong password must refuse")
	}
	if r := c.Post("/account/two_factor/disable/", "understand", "on", "password", authtest.Password); r.Location() != "/account/login/" {
		t.Fatalf("disable: want redirect to login, got %d %q", r.Status, r.Location())
	}
	if r := c.Get("/account/two_factor/"); r.Status != http.StatusSeeOther || r.Location() != authtest.ToLogin("/account/two_factor/") {
		t.Fatalf("the session survived disabling: want 303 to the login page, got %d %q", r.Status, r.Location())
	}
	u, _ := app.Service.UserByName(t.Context(), "ana")
	if on, _ := app.Service.TwoFactorEnabled(t.Context(), u); on {
		t.Fatalf("devices remain after disable")
	}
	if r := other.Password("ana", authtest.Password); r.Location() != "/account/two_factor/setup/" {
		t.Fatalf("next login after disable must force enrolment, got %q", r.Location())
	}
}

func TestUserVerifiedHook(t *testing.T) {
	var got []string
	app := authtest.New(t, authtest.Options{})
	app.Service.OnUserVerified(func(r *http.Request, u *auth.User, d auth.Device) {
		got = append(got, u.Username+" "+d.MethodCode()+" "+r.URL.Path)
	})
	app.User("ana", true, false)
	secret := app.Client().Enrol("ana")
	app.Clock.Advance(time.Minute)
	app.Client().Login("ana", secret, 0)
	want := []string{"ana generator /account/two_factor/setup/", "ana generator /account/login/"}
	if strings.Join(got, "|") != strings.Join(want, "|") {
		t.Fatalf("UserVerified calls: got %q, want %q", got, want)
	}
}

func TestLogoutDestroysServerSession(t *testing.T) {
	forEachDB(t, func(t *testing.T, o authtest.Options) {
		app := authtest.New(t, o)
		app.User("ana", true, false)
		c := app.Client()
		c.Enrol("ana")
		old := c.SessionCookie()
		if r := c.Post("/account/logout/"); r.Status != http.StatusSeeOther || r.Location() != "/account/login/" {
			t.Fatalf("logout: want 303 to /account/login/, got %d %q", r.Status, r.Location())
		}
		thief := app.Client()
		thief.SetSessionCookie(old)
		if r := thief.Get("/account/two_factor/"); r.Status != http.StatusSeeOther || r.Location() != "/account/login/?next=%2Faccount%2Ftwo_factor%2F" {
			t.Fatalf("a copied session cookie after logout: want 303 to the login page, got %d %q", r.Status, r.Location())
		}
	})
}

func TestSessionIDRotates(t *testing.T) {
	app := authtest.New(t, authtest.Options{})
	app.User("ana", true, false)
	secret := app.Client().Enrol("ana")
	app.Clock.Advance(time.Minute)
	c := app.Client()
	c.Post("/account/login/", "login_view-current_step", "auth") // gets a pre-login session
	c.Post("/account/login/", "login_view-current_step", "auth", "wizard_goto_step", "auth")
	before := c.SessionCookie()
	if r := c.Password("ana", authtest.Password); r.Status != http.StatusOK || !strings.Contains(r.Body, `name="token-otp_token"`) {
		t.Fatalf("password step: want 200 with the token step, got %d", r.Status)
	}
	mid := c.SessionCookie()
	if r := c.Post("/account/login/", "login_view-current_step", "token", "token-otp_token", app.Code(secret, 0)); r.Status != http.StatusSeeOther || r.Location() != "/account/two_factor/" {
		t.Fatalf("token step: want 303 to the profile, got %d %q", r.Status, r.Location())
	}
	after := c.SessionCookie()
	if mid == "" || mid == before || after == mid {
		t.Fatalf("session id must change after the password step and after verification: %q %q %q", before, mid, after)
	}
	if r := c.Get("/account/two_factor/"); r.Status != http.StatusOK {
		t.Fatalf("the rotated session must be verified: want 200, got %d", r.Status)
	}
	// The pre-verification id is dead: it is no session at all any more.
	fix := app.Client()
	fix.SetSessionCookie(mid)
	if r := fix.Get("/account/two_factor/"); r.Status != http.StatusSeeOther || r.Location() != "/account/login/?next=%2Faccount%2Ftwo_factor%2F" {
		t.Fatalf("session fixation: the pending session id must lead to the login page, got %d %q", r.Status, r.Location())
	}
}

func TestSessionTimeouts(t *testing.T) {
	app := authtest.New(t, authtest.Options{})
	app.User("ana", true, false)
	c := app.Client()
	c.Enrol("ana")
	app.Clock.Advance(29 * time.Minute)
	if r := c.Get("/account/two_factor/"); r.Status != http.StatusOK {
		t.Fatalf("session ended before the idle limit")
	}
	app.Clock.Advance(31 * time.Minute)
	if r := c.Get("/account/two_factor/"); r.Status != http.StatusSeeOther || r.Location() != authtest.ToLogin("/account/two_factor/") {
		t.Fatalf("session survived 31 idle minutes: want 303 to the login page, got %d %q", r.Status, r.Location())
	}

	c2 := app.Client()
	secret := ""
	app.User("bo", true, false)
	secret = c2.Enrol("bo")
	_ = secret
	for i := 0; i < 12*3; i++ { // active every 20 minutes for 12 hours
		app.Clock.Advance(20 * time.Minute)
		r := c2.Get("/account/two_factor/")
		if r.Status != http.StatusOK {
			if i < 35 {
				t.Fatalf("active session ended early after %d min", (i+1)*20)
			}
			return
		}
	}
	t.Fatal("session outlived the 12 h absolute limit")
}

func TestPasswordChangeEndsOtherSessions(t *testing.T) {
	app := authtest.New(t, authtest.Options{})
	u := app.User("ana", true, false)
	c := app.Client()
	c.Enrol("ana")
	if err := app.Service.SetPassword(t.Context(), u, "another long password"); err != nil {
		t.Fatal(err)
	}
	if r := c.Get("/account/two_factor/"); r.Status != http.StatusSeeOther || r.Location() != authtest.ToLogin("/account/two_factor/") {
		t.Fatalf("a session survived a password change: want 303 to the login page, got %d %q", r.Status, r.Location())
	}
}

func TestPasswordNeverInSessionStore(t *testing.T) {
	app := authtest.New(t, authtest.Options{})
	app.User("ana", true, false)
	c := app.Client()
	c.Password("ana", authtest.Password)
	c.Post("/account/two_factor/setup/", "setup_view-current_step", "welcome")
	var rows []struct{ Data []byte }
	app.DB.Table("gatehouse_session").Select("data").Find(&rows)
	if len(rows) == 0 {
		t.Fatal("no session rows to inspect")
	}
	for _, r := range rows {
		for _, enc := range encodings(authtest.Password) {
			if strings.Contains(string(r.Data), enc) {
				t.Fatalf("the password reached the session store (as %q)", enc)
			}
		}
		if strings.Contains(string(r.Data), "secret") {
			t.Fatalf("a secret-looking key in the session store")
		}
	}
}
