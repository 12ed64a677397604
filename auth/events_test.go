package auth_test

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gatehouse/gatehouse/auth"
	"github.com/gatehouse/gatehouse/auth/authtest"
)

// kinds lists the user's events oldest first, as "kind device".
func kinds(t *testing.T, app *authtest.App, uid uint) []string {
	t.Helper()
	var evs []auth.Event
	if err := app.DB.Where("user_id = ?", uid).Order("id").Find(&evs).Error; err != nil {
		t.Fatal(err)
	}
	out := make([]string, len(evs))
	for i, e := range evs {
		out[i] = strings.TrimSpace(e.Kind + " " + e.Device)
		if e.IP != "127.0.0.1" {
			t.Errorf("event %s has IP %q, want 127.0.0.1", e.Kind, e.IP)
		}
	}
	return out
}

// TestSecurityEventsRecorded walks through every flow and checks which
// events each step adds, in order.
func TestSecurityEventsRecorded(t *testing.T) {
	app := rememberApp(t, func(c *auth.Config) { c.StaticThrottleFactor = 0 })
	ana := app.User("ana", true, false)
	var hooked []string
	var mu sync.Mutex
	app.Service.OnEvent(func(_ context.Context, e auth.Event) {
		mu.Lock()
		hooked = append(hooked, e.Kind)
		mu.Unlock()
	})
	c := app.Client()
	var secret string
	var codes []string
	steps := []struct {
		name string
		do   func()
		want []string
	}{
		{"wrong password", func() { c.Password("ana", "not the password") }, []string{"password_failed"}},
		{"enrolment", func() { secret = c.Enrol("ana") }, []string{"device_added generator/1", "login_verified generator/1"}},
		{"backup codes", func() {
			codes = backupCodes(c.Post("/account/two_factor/backup/tokens/").Body)
			c.Post("/account/logout/")
			app.Clock.Advance(time.Minute)
		}, []string{"backup_generated"}},
		{"wrong token, then throttled", func() {
			c.Password("ana", authtest.Password)
			tokenPost(c, "000000")
			tokenPost(c, app.Code(secret, 0))
		}, []string{"token_failed generator/1", "throttled generator/1"}},
		{"backup code login", func() {
			c.Post("/account/login/", "login_view-current_step", "token", "wizard_goto_step", "backup")
			c.Post("/account/login/", "login_view-current_step", "backup", "backup-otp_token", codes[0])
			c.Post("/account/logout/")
			app.Clock.Advance(time.Minute)
		}, []string{"login_verified backup/1", "backup_used backup/1"}},
		{"remembered", func() {
			rememberLogin(t, app, c, "ana", secret)
			c.Post("/account/logout/")
			c.Password("ana", authtest.Password)
		}, []string{"login_verified generator/1", "remember_issued generator/1", "login_remembered generator/1"}},
		{"remember refused", func() {
			c.Post("/account/logout/")
			setCookie(app, c, app.Service.RememberCookieName(ana), "garbage")
			c.Password("ana", authtest.Password)
			app.Clock.Advance(time.Minute)
			c.Post("/account/login/", "login_view-current_step", "token", "token-otp_token", app.Code(secret, 0))
		}, []string{"remember_refused generator/1", "login_verified generator/1"}},
		{"disable", func() {
			c.Post("/account/two_factor/disable/", "understand", "on", "password", authtest.Password)
		}, []string{"device_removed"}},
	}
	var seen int
	for _, st := range steps {
		st.do()
		got := kinds(t, app, ana.ID)
		if strings.Join(got[seen:], "|") != strings.Join(st.want, "|") {
			t.Fatalf("%s: events %q, want %q", st.name, got[seen:], st.want)
		}
		seen = len(got)
	}
	mu.Lock()
	defer mu.Unlock()
	if len(hooked) != seen {
		t.Errorf("OnEvent saw %d events, the log has %d", len(hooked), seen)
	}
}

func TestPasswordFailureOfUnknownUser(t *testing.T) {
	app := authtest.New(t, authtest.Options{})
	app.Client().Password("nobody", "whatever password")
	var evs []auth.Event
	app.DB.Find(&evs)
	if len(evs) != 1 || evs[0].Kind != auth.EventPasswordFailed || evs[0].UserID != 0 || evs[0].Detail != "" {
		t.Fatalf("unknown user: want one password_failed event for user 0 without detail, got %+v", evs)
	}
}

func TestPasswordThrottledRecorded(t *testing.T) {
	app := authtest.New(t, authtest.Options{})
	ana := app.User("ana", true, false)
	c := app.Client()
	for range 7 { // 5 free, the 6th waits, the 7th is refused unread
		c.Password("ana", "wrong password")
	}
	evs, _ := app.Service.Events(t.Context(), ana.ID, 1)
	if len(evs) != 1 || evs[0].Kind != auth.EventThrottled || !strings.Contains(evs[0].Detail, "password step") {
		t.Fatalf("a throttled password attempt must be recorded: %+v", evs)
	}
}

// TestEventsNeverHoldSecrets: no password, token or backup code reaches the log.
func TestEventsNeverHoldSecrets(t *testing.T) {
	app := rememberApp(t)
	app.User("ana", true, false)
	c := app.Client()
	secret := c.Enrol("ana")
	codes := backupCodes(c.Post("/account/two_factor/backup/tokens/").Body)
	c.Post("/account/logout/")
	app.Clock.Advance(time.Minute)
	wrong := "123456"
	c.Password("ana", "a wrong password attempt")
	c.Password("ana", authtest.Password)
	tokenPost(c, wrong)
	c.Post("/account/login/", "login_view-current_step", "token", "wizard_goto_step", "backup")
	app.Clock.Advance(time.Minute)
	c.Post("/account/login/", "login_view-current_step", "backup", "backup-otp_token", codes[1])
	var evs []auth.Event
	app.DB.Find(&evs)
	secrets := append([]string{authtest.Password, "a wrong password attempt", secret, wrong, app.Code(secret, 0)}, codes...)
	for _, e := range evs {
		row := fmt.Sprintf("%+v", e)
		for _, s := range secrets {
			if strings.Contains(row, s) {
				t.Fatalf("event %s holds a secret (%q): %s", e.Kind, s, row)
			}
		}
	}
	if len(evs) < 6 {
		t.Fatalf("too few events to be meaningful: %d", len(evs))
	}
}

func TestProfileShowsEvents(t *testing.T) {
	app := authtest.New(t, authtest.Options{})
	app.User("ana", true, false)
	bo := app.User("bo", true, false)
	c := app.Client()
	c.Enrol("ana")
	// 25 events of ana after enrolment, and one of bo's that must not show.
	for i := range 25 {
		app.Clock.Advance(time.Second)
		app.Service.RecordContext(auth.WithClientIP(t.Context(), fmt.Sprintf("192.0.2.%d", i)), auth.Event{Kind: auth.EventTokenFailed, UserID: 1, Device: "generator/1"})
	}
	app.Service.RecordContext(auth.WithClientIP(t.Context(), "198.51.100.7"), auth.Event{Kind: auth.EventPasswordFailed, UserID: bo.ID})

	r := c.Get("/account/two_factor/")
	if r.Status != http.StatusOK {
		t.Fatalf("profile: %d", r.Status)
	}
	if n := strings.Count(r.Body, "<time datetime="); n != 20 {
		t.Errorf("want the latest 20 events, got %d", n)
	}
	if !strings.Contains(r.Body, `<time datetime="2026-01-05T12:00:25Z">2026-01-05 12:00:25 UTC</time>`) || !strings.Contains(r.Body, "192.0.2.24") {
		t.Errorf("the newest event (UTC time, IP) is missing")
	}
	if strings.Contains(r.Body, "192.0.2.4<") || strings.Contains(r.Body, "198.51.100.7") {
		t.Errorf("older than the latest 20, or another user's event, is shown")
	}
	if !strings.Contains(r.Body, "Wrong verification code") || !strings.Contains(r.Body, "Token generator (authenticator app)") {
		t.Errorf("the event kind or method is not translated")
	}
	if de := c.Get("/account/two_factor/?lang=de"); !strings.Contains(de.Body, "Falscher Bestätigungscode") || !strings.Contains(de.Body, "Letzte Sicherheitsereignisse") {
		t.Errorf("the event log is not translated to German")
	}
	if he := c.Get("/account/two_factor/?lang=he"); !strings.Contains(he.Body, "קוד אימות שגוי") || !strings.Contains(he.Body, `<td dir="ltr">192.0.2.24</td>`) {
		t.Errorf("the event log is not translated to Hebrew, or the IP is not left-to-right")
	}
}

func TestProfileWithoutEvents(t *testing.T) {
	app := authtest.New(t, authtest.Options{})
	app.User("ana", true, false)
	c := app.Client()
	c.Enrol("ana")
	app.DB.Where("1 = 1").Delete(&auth.Event{})
	if r := c.Get("/account/two_factor/"); !strings.Contains(r.Body, "No security events yet.") {
		t.Fatalf("an empty log must say so")
	}
}

func TestAllEvents(t *testing.T) {
	app := authtest.New(t, authtest.Options{})
	for i := range 30 {
		app.Clock.Advance(time.Second)
		kind := auth.EventTokenFailed
		if i%3 == 0 {
			kind = auth.EventLoginVerified
		}
		app.Service.RecordContext(t.Context(), auth.Event{Kind: kind, UserID: uint(i%2 + 1)})
	}
	cases := []struct {
		name          string
		filter        auth.EventFilter
		limit, offset int
		total         int64
		n             int
		first         int // seconds after authtest.Epoch of the first row
	}{
		{"first page", auth.EventFilter{}, 10, 0, 30, 10, 30},
		{"last page", auth.EventFilter{}, 10, 25, 30, 5, 5},
		{"past the end", auth.EventFilter{}, 10, 40, 30, 0, 0},
		{"default limit", auth.EventFilter{}, 0, 0, 30, 20, 30},
		{"negative offset", auth.EventFilter{}, 5, -3, 30, 5, 30},
		{"one user", auth.EventFilter{UserID: 2}, 100, 0, 15, 15, 30},
		{"one kind", auth.EventFilter{Kind: auth.EventLoginVerified}, 100, 0, 10, 10, 28},
		{"user and kind", auth.EventFilter{UserID: 1, Kind: auth.EventLoginVerified}, 100, 0, 5, 5, 25},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			evs, total, err := app.Service.AllEvents(t.Context(), tc.filter, tc.limit, tc.offset)
			if err != nil {
				t.Fatal(err)
			}
			if total != tc.total || len(evs) != tc.n {
				t.Fatalf("got %d of %d, want %d of %d", len(evs), total, tc.n, tc.total)
			}
			if tc.n > 0 {
				if got := int(evs[0].At.Sub(authtest.Epoch) / time.Second); got != tc.first {
					t.Errorf("first row at +%ds, want +%ds (newest first)", got, tc.first)
				}
				for i := 1; i < len(evs); i++ {
					if evs[i].At.After(evs[i-1].At) {
						t.Fatalf("not newest first")
					}
				}
			}
		})
	}
}

// TestEventTextComplete: every kind has a translation in every language.
func TestEventTextComplete(t *testing.T) {
	app := authtest.New(t, authtest.Options{})
	for _, l := range app.Service.Catalog().Languages() {
		for _, k := range auth.EventKinds() {
			if got := auth.EventText(l, k); got == k || strings.HasPrefix(got, "event_") {
				t.Errorf("%s: event kind %s untranslated: %q", l.Tag, k, got)
			}
		}
	}
	if got := auth.EventText(app.Service.Catalog().Lang("en"), "yubikey_custom"); got != "yubikey_custom" {
		t.Errorf("an unknown kind must show as it is, got %q", got)
	}
}

// TestBackupUsedHook: the hook of the example fires on a real backup login.
func TestBackupUsedHook(t *testing.T) {
	app := authtest.New(t, authtest.Options{})
	app.User("ana", true, false)
	var mu sync.Mutex
	var got []string
	app.Service.OnEvent(func(ctx context.Context, e auth.Event) {
		if e.Kind != auth.EventBackupUsed {
			return
		}
		u, err := app.Service.UserByID(ctx, e.UserID)
		if err != nil {
			t.Error(err)
			return
		}
		mu.Lock()
		got = append(got, u.Email+" "+e.IP)
		mu.Unlock()
	})
	c := app.Client()
	c.Enrol("ana")
	codes := backupCodes(c.Post("/account/two_factor/backup/tokens/").Body)
	c.Post("/account/logout/")
	c.Password("ana", authtest.Password)
	c.Post("/account/login/", "login_view-current_step", "token", "wizard_goto_step", "backup")
	c.Post("/account/login/", "login_view-current_step", "backup", "backup-otp_token", codes[0])
	mu.Lock()
	defer mu.Unlock()
	if strings.Join(got, "|") != "ana@example.com 127.0.0.1" {
		t.Fatalf("backup_used hook calls: %q", got)
	}
}
