package phone_test

import (
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/gatehouse/gatehouse/auth"
	"github.com/gatehouse/gatehouse/auth/authtest"
	"github.com/gatehouse/gatehouse/auth/phone"
	"github.com/gatehouse/gatehouse/internal/testenv"
)

// TestBackupPhones: register, list, use at login, unregister.
func TestBackupPhones(t *testing.T) {
	forEachDB(t, func(t *testing.T, db testenv.DB) {
		e := newEnv(t, envOptions{db: db})
		u := e.app.User("ana", true, false)
		c := e.app.Client()
		secret := e.enrolTOTP(c, "ana")

		r := c.Get("/account/two_factor/")
		if !strings.Contains(text(r), "You have no backup phone numbers yet.") || !strings.Contains(r.Body, `href="/account/two_factor/phone/register/"`) {
			t.Fatalf("profile lacks the backup phone block: %s", r.Body)
		}
		r = c.Get(registerP)
		if r.Status != http.StatusOK || !strings.Contains(r.Body, `name="setup-number"`) || !strings.Contains(r.Body, `name="setup-method"`) ||
			!strings.Contains(r.Body, `name="phone_setup_view-current_step" value="setup"`) || r.Header.Get("Cache-Control") != "no-store" {
			t.Fatalf("register page: %d %v %s", r.Status, r.Header, r.Body)
		}
		r = register(c, "setup", "setup-method", "call", "setup-number", "010-1234567")
		if !strings.Contains(text(r), "We've sent a token to your phone number "+nlMasked) {
			t.Fatalf("validation step: %s", r.Body)
		}
		if r := register(c, "validation", "validation-token", "12"); !strings.Contains(r.Body, "Invalid token") {
			t.Fatalf("a wrong code was not refused: %s", r.Body)
		}
		e.app.Clock.Advance(2 * time.Second)
		r = register(c, "validation", "validation-token", e.code(phone.MethodCall, nlNumber))
		if r.Location() != "/account/two_factor/" {
			t.Fatalf("validation: %d %q %s", r.Status, r.Location(), r.Body)
		}
		d := e.device("ana", nlNumber)
		if d.Name != phone.NameBackup || !d.Confirmed || d.Method != phone.MethodCall {
			t.Fatalf("stored backup phone: %+v", d)
		}
		r = c.Get("/account/two_factor/")
		if !strings.Contains(text(r), "Backup phone +31 10 123 4567 added.") || !strings.Contains(text(r), "Call number "+nlMasked) ||
			!strings.Contains(r.Body, fmt.Sprintf(`action="/account/two_factor/phone/unregister/%d/"`, d.ID)) {
			t.Fatalf("profile does not list the backup phone: %s", r.Body)
		}

		// Login: the app stays the default, the phone is an alternative.
		e.app.Clock.Advance(time.Minute)
		l := e.app.Client()
		if r := l.Password("ana", authtest.Password); !strings.Contains(text(r), "Call number "+nlMasked) {
			t.Fatalf("token step does not offer the backup phone: %s", r.Body)
		}
		choose(l, d.Key())
		wantStatus(t, token(l, e.code(phone.MethodCall, nlNumber)), http.StatusSeeOther, "login with the backup phone")
		if k := lastKinds(t, e, u.ID, 2); k[0] != auth.EventLoginVerified {
			t.Fatalf("events: %v", k)
		}

		// Unregister.
		r = c.Post(fmt.Sprintf("/account/two_factor/phone/unregister/%d/", d.ID))
		if r.Location() != "/account/two_factor/" {
			t.Fatalf("unregister: %d %q", r.Status, r.Location())
		}
		if r := c.Get("/account/two_factor/"); !strings.Contains(text(r), "Backup phone "+nlMasked+" removed.") || strings.Contains(r.Body, "unregister/") {
			t.Fatalf("profile after unregister: %s", r.Body)
		}
		if k := lastKinds(t, e, u.ID, 1); k[0] != auth.EventDeviceRemoved {
			t.Fatalf("no device_removed event: %v", k)
		}
		e.app.Clock.Advance(time.Minute)
		l = e.app.Client()
		if r := l.Password("ana", authtest.Password); strings.Contains(r.Body, "challenge_device") {
			t.Fatalf("the removed phone is still offered: %s", r.Body)
		}
		_ = secret
	})
}

func lastKinds(t *testing.T, e *env, uid uint, n int) []string {
	t.Helper()
	evs, err := e.app.Service.Events(t.Context(), uid, n)
	if err != nil {
		t.Fatal(err)
	}
	out := make([]string, len(evs))
	for i, ev := range evs {
		out[i] = ev.Kind
	}
	return out
}

// TestBackupPhonePagesRefuse: the attacks and mistakes the backup-phone
// pages must turn away.
func TestBackupPhonePagesRefuse(t *testing.T) {
	e := newEnv(t, envOptions{phone: func(c *phone.Config) { c.SendCooldown = 0 }})
	e.app.User("ana", true, false)
	e.app.User("bob", true, false)
	ana := e.app.Client()
	e.enrol(ana, "ana", phone.MethodSMS, nlNumber) // ana's default phone
	bob := e.app.Client()
	e.enrolTOTP(bob, "bob")
	e.addBackup(bob, phone.MethodSMS, nlMobile)
	bobPhone := e.device("bob", nlMobile)
	anaDefault := e.device("ana", nlNumber)
	pending := e.app.Client()
	pending.Password("ana", authtest.Password)

	cases := []struct {
		name     string
		c        *authtest.Client
		method   string
		path     string
		fields   []string
		status   int
		location string
		body     string
	}{
		{"anonymous page", e.app.Client(), http.MethodGet, registerP, nil, 303, "/account/login/?next=%2Faccount%2Ftwo_factor%2Fphone%2Fregister%2F", ""},
		{"password only", pending, http.MethodPost, registerP, []string{"phone_setup_view-current_step", "setup", "setup-method", "sms", "setup-number", deNumber}, 303, "/account/login/", ""},
		{"password only unregister", pending, http.MethodPost, fmt.Sprintf("/account/two_factor/phone/unregister/%d/", anaDefault.ID), nil, 303, "/account/login/", ""},
		{"no step", ana, http.MethodPost, registerP, []string{"setup-number", deNumber}, 400, "", ""},
		{"unknown step", ana, http.MethodPost, registerP, []string{"phone_setup_view-current_step", "done"}, 400, "", ""},
		{"bad goto", ana, http.MethodPost, registerP, []string{"phone_setup_view-current_step", "setup", "wizard_goto_step", "validation"}, 400, "", ""},
		{"validation without setup", ana, http.MethodPost, registerP, []string{"phone_setup_view-current_step", "validation", "validation-token", "123456"}, 200, "", `value="setup"`},
		{"unknown method", ana, http.MethodPost, registerP, []string{"phone_setup_view-current_step", "setup", "setup-method", "generator", "setup-number", deNumber}, 200, "", "Choose how the codes should be sent."},
		{"bad number", ana, http.MethodPost, registerP, []string{"phone_setup_view-current_step", "setup", "setup-method", "sms", "setup-number", "12"}, 200, "", "This is not a valid phone number"},
		{"number already registered", ana, http.MethodPost, registerP, []string{"phone_setup_view-current_step", "setup", "setup-method", "sms", "setup-number", nlNumber}, 200, "", "already registered"},
		{"other user's phone", ana, http.MethodPost, fmt.Sprintf("/account/two_factor/phone/unregister/%d/", bobPhone.ID), nil, 404, "", ""},
		{"default phone", ana, http.MethodPost, fmt.Sprintf("/account/two_factor/phone/unregister/%d/", anaDefault.ID), nil, 404, "", ""},
		{"id not a number", ana, http.MethodPost, "/account/two_factor/phone/unregister/x/", nil, 404, "", ""},
		{"id with leading zero", ana, http.MethodPost, fmt.Sprintf("/account/two_factor/phone/unregister/0%d/", bobPhone.ID), nil, 404, "", ""},
		{"id overflow", ana, http.MethodPost, "/account/two_factor/phone/unregister/99999999999999999999/", nil, 404, "", ""},
		{"unregister by GET", ana, http.MethodGet, fmt.Sprintf("/account/two_factor/phone/unregister/%d/", bobPhone.ID), nil, 405, "", ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var r *authtest.Response
			if tc.method == http.MethodGet {
				r = tc.c.Get(tc.path)
			} else {
				r = tc.c.Post(tc.path, tc.fields...)
			}
			if r.Status != tc.status || (tc.location != "" && !strings.HasPrefix(r.Location(), tc.location)) || !strings.Contains(text(r), tc.body) {
				t.Fatalf("want %d %q containing %q, got %d %q: %.400s", tc.status, tc.location, tc.body, r.Status, r.Location(), r.Body)
			}
		})
	}
	if d := e.device("bob", nlMobile); !d.Confirmed {
		t.Fatalf("bob's phone was removed by ana")
	}
	if d := e.device("ana", nlNumber); !d.Confirmed {
		t.Fatalf("ana's default phone was removed")
	}
}

// TestBackupWizardBackAndRestart: going back voids nothing but the step;
// a pending phone replaced meanwhile restarts the wizard.
func TestBackupWizardBackAndRestart(t *testing.T) {
	e := newEnv(t, envOptions{phone: func(c *phone.Config) { c.SendCooldown = 0 }})
	e.app.User("ana", true, false)
	c := e.app.Client()
	e.enrolTOTP(c, "ana")
	register(c, "setup", "setup-method", "sms", "setup-number", nlNumber)
	first := e.code(phone.MethodSMS, nlNumber)
	if r := register(c, "validation", "wizard_goto_step", "setup"); !strings.Contains(r.Body, `value="setup"`) {
		t.Fatalf("back: %s", r.Body)
	}
	// Starting over with another number replaces the first pending phone.
	register(c, "setup", "setup-method", "sms", "setup-number", nlMobile)
	if r := register(c, "validation", "validation-token", first); r.Location() != "" {
		t.Fatalf("the code of a replaced pending phone confirmed it: %q", r.Location())
	}
	e.app.Clock.Advance(2 * time.Second)
	wantStatus(t, register(c, "validation", "validation-token", e.code(phone.MethodSMS, nlMobile)), http.StatusSeeOther, "the current pending phone")
}
