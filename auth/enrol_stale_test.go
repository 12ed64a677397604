package auth_test

import (
	"net/http"
	"testing"

	"github.com/gatehouse/gatehouse/auth"
	"github.com/gatehouse/gatehouse/auth/authtest"
)

const (
	setupPath    = "/account/two_factor/setup/"
	loginToSetup = "/account/login/?next=%2Faccount%2Ftwo_factor%2Fsetup%2F"
)

// beginEnrol does the password step of a user without devices and opens
// the generator step; it returns the secret this session would enrol.
func beginEnrol(t *testing.T, c *authtest.Client, username string) string {
	t.Helper()
	if r := c.Password(username, authtest.Password); r.Status != http.StatusSeeOther || r.Location() != setupPath {
		t.Fatalf("password step of a user without devices: want 303 %s, got %d %q", setupPath, r.Status, r.Location())
	}
	r := c.Post(setupPath, "setup_view-current_step", "welcome")
	secret := authtest.Secret(r.Body)
	if r.Status != http.StatusOK || secret == "" {
		t.Fatalf("generator step: want 200 with a secret, got %d", r.Status)
	}
	return secret
}

func confirmedTOTP(t *testing.T, app *authtest.App, userID uint) int64 {
	t.Helper()
	var n int64
	if err := app.DB.Model(&auth.TOTPDevice{}).Where("user_id = ? AND confirmed = ?", userID, true).Count(&n).Error; err != nil {
		t.Fatal(err)
	}
	return n
}

func refusals(t *testing.T, app *authtest.App, userID uint) int64 {
	t.Helper()
	var n int64
	if err := app.DB.Model(&auth.Event{}).Where("user_id = ? AND kind = ?", userID, auth.EventLoginRefused).Count(&n).Error; err != nil {
		t.Fatal(err)
	}
	return n
}

// An attacker who knows the password keeps the forced-enrolment session of
// a user without devices; the real user enrols first. The attacker's
// session must never enrol a device of its own or reach a guarded page,
// whichever instance serves it and however far it had got.
func TestStaleEnrolmentCannotBypassSecondFactor(t *testing.T) {
	forEachDB(t, func(t *testing.T, o authtest.Options) {
		for _, tc := range []struct {
			name   string
			twin   bool // the attacker's requests reach a second instance
			begun  bool // the attacker had opened the generator step
			action func(c *authtest.Client, app *authtest.App, secret string) *authtest.Response
		}{
			{"confirm own authenticator", false, true, func(c *authtest.Client, app *authtest.App, secret string) *authtest.Response {
				return c.Post(setupPath, "setup_view-current_step", "generator", "generator-token", app.Code(secret, 0))
			}},
			{"confirm on another instance", true, true, func(c *authtest.Client, app *authtest.App, secret string) *authtest.Response {
				return c.Post(setupPath, "setup_view-current_step", "generator", "generator-token", app.Code(secret, 0))
			}},
			{"open the wizard", false, false, func(c *authtest.Client, _ *authtest.App, _ string) *authtest.Response {
				return c.Get(setupPath)
			}},
			{"start the wizard on another instance", true, false, func(c *authtest.Client, _ *authtest.App, _ string) *authtest.Response {
				return c.Post(setupPath, "setup_view-current_step", "welcome")
			}},
		} {
			t.Run(tc.name, func(t *testing.T) {
				app := authtest.New(t, o)
				u := app.User("ana", true, true)
				attacker := app.Client()
				var secret string
				if tc.begun {
					secret = beginEnrol(t, attacker, "ana")
				} else if r := attacker.Password("ana", authtest.Password); r.Location() != setupPath {
					t.Fatalf("password step: want forced enrolment, got %d %q", r.Status, r.Location())
				}
				app.Client().Enrol("ana") // the real user enrols and is verified

				if tc.twin {
					attacker = attacker.Via(app.Twin())
				}
				r := tc.action(attacker, app, secret)
				if r.Status != http.StatusSeeOther || r.Location() != loginToSetup {
					t.Fatalf("stale enrolment session: want 303 %s, got %d %q", loginToSetup, r.Status, r.Location())
				}
				if r := attacker.Get("/admin/"); r.Status == http.StatusOK {
					t.Fatalf("stale enrolment session reached /admin/")
				}
				if r := attacker.Get("/account/two_factor/"); r.Status != http.StatusSeeOther || r.Location() != "/account/login/?next=%2Faccount%2Ftwo_factor%2F" {
					t.Fatalf("stale enrolment session on the account page: want 303 to login, got %d %q", r.Status, r.Location())
				}
				if n := confirmedTOTP(t, app, u.ID); n != 1 {
					t.Fatalf("want only the real user's authenticator, got %d confirmed", n)
				}
				if n := refusals(t, app, u.ID); n != 1 {
					t.Fatalf("the refused enrolment must be in the security log once, got %d", n)
				}
			})
		}
	})
}

// A device change ends the user's other pending logins: a session at the
// token step before the devices were removed cannot finish with them.
func TestDeviceChangeEndsPendingLogins(t *testing.T) {
	app := authtest.New(t, authtest.Options{})
	u := app.User("ana", true, true)
	secret := app.Client().Enrol("ana")
	pending := app.Client()
	if r := pending.Password("ana", authtest.Password); r.Status != http.StatusOK {
		t.Fatalf("password step: want 200 token step, got %d", r.Status)
	}
	if err := app.Service.DevicesChanged(t.Context(), nil, u.ID); err != nil {
		t.Fatal(err)
	}
	app.Clock.Advance(30e9)
	r := pending.Post("/account/login/", "login_view-current_step", "token", "token-otp_token", app.Code(secret, 0))
	if r.Status != http.StatusOK || pending.Get("/account/two_factor/").Status != http.StatusSeeOther {
		t.Fatalf("a login pending before the device change must start again: got %d", r.Status)
	}
}
