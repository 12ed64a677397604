package auth_test

import (
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gatehouse/gatehouse/auth"
	"github.com/gatehouse/gatehouse/auth/authtest"
)

func tokenPost(c *authtest.Client, code string) *authtest.Response {
	return c.Post("/account/login/", "login_view-current_step", "token", "token-otp_token", code)
}

func TestThrottledAttemptFailsEvenWithRightToken(t *testing.T) {
	app := authtest.New(t, authtest.Options{})
	app.User("ana", true, false)
	secret := app.Client().Enrol("ana")
	app.Clock.Advance(time.Minute)
	c := app.Client()
	c.Password("ana", authtest.Password)
	if r := tokenPost(c, "000000"); !strings.Contains(r.Body, "Invalid token") {
		t.Fatalf("wrong token: want Invalid token")
	}
	r := tokenPost(c, app.Code(secret, 0))
	if r.Status != http.StatusOK {
		t.Fatalf("a throttled attempt succeeded with the right token: want 200 with the token form, got %d", r.Status)
	}
	if !strings.Contains(r.Body, "after 1 failed attempt") {
		t.Fatalf("throttle message must say how many failures: %s", r.Body)
	}
	tokenPost(c, "000000") // still throttled: not counted, not evaluated
	app.Clock.Advance(1 * time.Second)
	if r := tokenPost(c, "111111"); !strings.Contains(r.Body, "Invalid token") {
		t.Fatal("after the wait a token must be evaluated again")
	}
	app.Clock.Advance(1 * time.Second)
	if r := tokenPost(c, app.Code(secret, 0)); r.Status != http.StatusOK {
		t.Fatalf("2 failures wait 2 s; 1 s later the right token was accepted: want 200 with the token form, got %d", r.Status)
	}
	app.Clock.Advance(1 * time.Second)
	if r := tokenPost(c, app.Code(secret, 0)); r.Status != http.StatusSeeOther {
		t.Fatalf("after waiting 2^(n-1) s the right token must work: %d", r.Status)
	}
}

func TestAccountCapAcrossDevices(t *testing.T) {
	app := authtest.New(t, authtest.Options{Config: func(c *auth.Config) {
		c.TOTPThrottleFactor, c.StaticThrottleFactor, c.AccountFailureCap = 0, 0, 6
	}})
	app.User("ana", true, false)
	e := app.Client()
	secret := e.Enrol("ana")
	e.Post("/account/two_factor/backup/tokens/")
	app.Clock.Advance(time.Minute)
	c := app.Client()
	c.Password("ana", authtest.Password)
	for range 3 {
		tokenPost(c, "000000")
	}
	c.Post("/account/login/", "login_view-current_step", "token", "wizard_goto_step", "backup")
	for range 3 {
		c.Post("/account/login/", "login_view-current_step", "backup", "backup-otp_token", "aaaaaaaa")
	}
	c.Post("/account/login/", "login_view-current_step", "backup", "wizard_goto_step", "token")
	r := tokenPost(c, app.Code(secret, 0))
	if r.Status != http.StatusOK || !strings.Contains(r.Body, "locked") {
		t.Fatalf("guesses spread over devices must hit the account cap: %d", r.Status)
	}
	// An administrator's two-factor-disable unlocks.
	u, _ := app.Service.UserByName(t.Context(), "ana")
	if err := app.Service.DisableTwoFactor(t.Context(), u); err != nil {
		t.Fatal(err)
	}
	if r := app.Client().Password("ana", authtest.Password); r.Location() != "/account/two_factor/setup/" {
		t.Fatal("after two-factor-disable the user must be able to enrol again")
	}
}

func TestPasswordThrottleDoesNotLockSecondFactor(t *testing.T) {
	app := authtest.New(t, authtest.Options{Config: func(c *auth.Config) { c.PasswordUserFree = 3 }})
	app.User("ana", true, false)
	secret := app.Client().Enrol("ana")
	app.Clock.Advance(time.Minute)
	victim := app.Client()
	victim.Password("ana", authtest.Password) // the real user is at the token step
	attacker := app.Client()
	for range 3 {
		attacker.Password("ana", "wrong wrong wrong")
	}
	if r := attacker.Password("ana", authtest.Password); !strings.Contains(r.Body, "paused") {
		t.Fatalf("the password step must back off after the free failures: %s", r.Body)
	}
	if r := tokenPost(victim, app.Code(secret, 0)); r.Status != http.StatusSeeOther {
		t.Fatalf("password-step failures locked out the second factor: %d", r.Status)
	}
}

func TestConcurrentLogins(t *testing.T) {
	forEachDB(t, func(t *testing.T, o authtest.Options) {
		o.Config = func(c *auth.Config) { c.TOTPThrottleFactor, c.StaticThrottleFactor = 0, 0 }
		app := authtest.New(t, o)
		app.User("ana", true, false)
		e := app.Client()
		secret := e.Enrol("ana")
		codes := backupCodes(e.Post("/account/two_factor/backup/tokens/").Body)
		app.Clock.Advance(time.Minute)

		clients := make([]*authtest.Client, 20)
		for i := range clients {
			clients[i] = app.Client()
			clients[i].Password("ana", authtest.Password)
		}
		var mu sync.Mutex
		wins := 0
		code := app.Code(secret, 0)
		authtest.Race(20, func(i int) {
			switch s := tokenPost(clients[i], code).Status; s {
			case http.StatusSeeOther:
				mu.Lock()
				wins++
				mu.Unlock()
			case http.StatusOK: // refused, the token form again
			default:
				t.Errorf("a concurrent token step answered %d: want 303 or 200", s)
			}
		})
		if wins != 1 {
			t.Fatalf("20 pending logins posted one TOTP code: %d succeeded, want exactly 1", wins)
		}

		for i := range clients {
			clients[i] = app.Client()
			clients[i].Password("ana", authtest.Password)
			clients[i].Post("/account/login/", "login_view-current_step", "token", "wizard_goto_step", "backup")
		}
		wins = 0
		authtest.Race(20, func(i int) {
			r := clients[i].Post("/account/login/", "login_view-current_step", "backup", "backup-otp_token", codes[0])
			switch r.Status {
			case http.StatusSeeOther:
				mu.Lock()
				wins++
				mu.Unlock()
			case http.StatusOK: // refused, the backup form again
			default:
				t.Errorf("a concurrent backup step answered %d: want 303 or 200", r.Status)
			}
		})
		if wins != 1 {
			t.Fatalf("20 pending logins posted one backup code: %d succeeded, want exactly 1", wins)
		}
	})
}

func TestParallelGuessesBounded(t *testing.T) {
	forEachDB(t, func(t *testing.T, o authtest.Options) {
		app := authtest.New(t, o)
		app.User("ana", true, false)
		app.Client().Enrol("ana")
		app.Clock.Advance(time.Minute)
		c := app.Client()
		c.Password("ana", authtest.Password)
		var mu sync.Mutex
		evaluated := 0
		authtest.Race(50, func(i int) {
			r := tokenPost(c, "000000")
			if strings.Contains(r.Body, "Invalid token") {
				mu.Lock()
				evaluated++
				mu.Unlock()
			}
		})
		// Clock frozen, factor 1 s: the first claim throttles all others.
		if evaluated != 1 {
			t.Fatalf("50 parallel wrong guesses: %d evaluated, the throttle allows 1", evaluated)
		}
	})
}
