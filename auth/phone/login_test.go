package phone_test

import (
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gatehouse/gatehouse/auth"
	"github.com/gatehouse/gatehouse/auth/authtest"
	"github.com/gatehouse/gatehouse/auth/phone"
	"github.com/gatehouse/gatehouse/internal/testenv"
)

// TestEnrolAndLogin: each method through the setup wizard (forced
// enrolment) and then a login, with the fake gateway.
func TestEnrolAndLogin(t *testing.T) {
	cases := []struct {
		method, kind, typed, action, label string
	}{
		{phone.MethodSMS, "SMS", "010 123 4567", "Send text message to " + nlMasked, "phone " + nlMasked + " (text message)"},
		{phone.MethodCall, "call", "+31 10 123 45 67", "Call number " + nlMasked, "phone " + nlMasked + " (phone call)"},
	}
	for _, tc := range cases {
		t.Run(tc.method, func(t *testing.T) {
			forEachDB(t, func(t *testing.T, db testenv.DB) {
				e := newEnv(t, envOptions{db: db})
				e.app.User("ana", true, false)
				c := e.app.Client()
				r := e.startEnrol(c, "ana", tc.method, tc.typed)
				if !strings.Contains(r.Body, `name="validation-token"`) {
					t.Fatalf("number step did not move to validation: %s", r.Body)
				}
				lines := e.log.all()
				want := `Fake ` + tc.kind + ` to ` + nlNumber + `: "Your token is: ` + e.code(tc.method, nlNumber) + `"`
				if len(lines) != 1 || lines[0] != want || e.log.level[0] != 0 /* slog.LevelInfo */ {
					t.Fatalf("fake gateway log: want exactly %q at INFO, got %q", want, lines)
				}
				r = post(c, "validation", "validation-token", e.code(tc.method, nlNumber))
				if r.Location() != "/account/two_factor/setup/complete/" {
					t.Fatalf("validation: %d %q %s", r.Status, r.Location(), r.Body)
				}
				d := e.device("ana", nlNumber)
				if !d.Confirmed || d.Name != phone.NameDefault || d.Method != tc.method || d.Number != nlNumber {
					t.Fatalf("stored device: %+v", d)
				}
				if r := c.Get("/account/two_factor/"); !strings.Contains(text(r), tc.label) {
					t.Fatalf("profile does not name the phone %q: %s", tc.label, r.Body)
				}

				// Login: the code goes out when the password step asks for the phone.
				e.app.Clock.Advance(2 * time.Minute)
				l := e.app.Client()
				r = l.Password("ana", authtest.Password)
				if !strings.Contains(r.Body, `name="token-otp_token"`) || !strings.Contains(text(r), tc.label) {
					t.Fatalf("token step: %s", r.Body)
				}
				if !strings.Contains(r.Body, `name="challenge_device" value="`+key(tc.method, d.ID)+`"`) {
					t.Fatalf("token step offers no 'send again' for the phone: %s", r.Body)
				}
				if _, n := e.log.last(tc.kind, nlNumber); n != 2 {
					t.Fatalf("password step sent %d codes in all, want 2 (setup, login)", n)
				}
				wantStatus(t, token(l, e.code(tc.method, nlNumber)), http.StatusSeeOther, "login with the phone code")
				if r := l.Get("/account/two_factor/"); r.Status != http.StatusOK {
					t.Fatalf("verified login cannot see the profile: %d", r.Status)
				}
				_ = tc.action
			})
		})
	}
}

// TestCodeSingleUse: a code verifies once; the enrolment code cannot log
// in; a resend within moments repeats the code instead of voiding it.
func TestCodeSingleUse(t *testing.T) {
	e := newEnv(t, envOptions{phone: func(c *phone.Config) { c.SendCooldown = 0 }})
	e.app.User("ana", true, false)
	e.enrol(e.app.Client(), "ana", phone.MethodSMS, nlNumber)
	enrolCode := e.code(phone.MethodSMS, nlNumber)

	c := e.app.Client()
	c.Password("ana", authtest.Password)
	first := e.code(phone.MethodSMS, nlNumber)
	if first == enrolCode {
		t.Fatalf("the login reused the enrolment code, which was already used")
	}
	r := token(c, enrolCode)
	if r.Status != http.StatusOK || !strings.Contains(r.Body, "Invalid token") {
		t.Fatalf("the enrolment code logged in: %d", r.Status)
	}
	// Send again: the same code (the first message may still arrive).
	e.app.Clock.Advance(2 * time.Second) // past the one-failure back-off
	choose(c, key(phone.MethodSMS, e.device("ana", nlNumber).ID))
	if again := e.code(phone.MethodSMS, nlNumber); again != first {
		t.Fatalf("resend within moments changed the code: %s then %s", first, again)
	}
	wantStatus(t, token(c, first), http.StatusSeeOther, "login with the code")

	c2 := e.app.Client()
	c2.Password("ana", authtest.Password)
	if e.code(phone.MethodSMS, nlNumber) == first {
		t.Fatalf("a used code was sent again")
	}
	if r := token(c2, first); r.Status != http.StatusOK {
		t.Fatalf("a used code logged in a second time: want 200 with the token form, got %d", r.Status)
	}
}

// TestCodeExpiry: a code is good for CodeValidity and not a moment more.
func TestCodeExpiry(t *testing.T) {
	cases := []struct {
		name  string
		after time.Duration
		ok    bool
	}{
		{"fresh", 0, true},
		{"just before expiry", 5*time.Minute - time.Second, true},
		{"at expiry", 5*time.Minute + time.Millisecond, false},
		{"an hour later", time.Hour, false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t, envOptions{})
			e.app.User("ana", true, false)
			e.enrol(e.app.Client(), "ana", phone.MethodSMS, nlNumber)
			e.app.Clock.Advance(2 * time.Minute)
			c := e.app.Client()
			c.Password("ana", authtest.Password)
			code := e.code(phone.MethodSMS, nlNumber)
			e.app.Clock.Advance(tc.after)
			r := token(c, code)
			if (r.Status == http.StatusSeeOther) != tc.ok {
				t.Fatalf("code %v after sending: accepted=%v, want %v", tc.after, r.Status == http.StatusSeeOther, tc.ok)
			}
		})
	}
}

// TestConcurrentSameCode: twenty pending logins post the same code at
// once; exactly one gets in.
func TestConcurrentSameCode(t *testing.T) {
	forEachDB(t, func(t *testing.T, db testenv.DB) {
		e := newEnv(t, envOptions{db: db,
			phone: func(c *phone.Config) {
				c.SendCooldown, c.ThrottleFactor = 0, 0
				c.UserLimit, c.NumberLimit, c.PrefixLimit, c.GlobalLimit = phone.Limit{}, phone.Limit{}, phone.Limit{}, phone.Limit{}
			},
		})
		e.app.User("ana", true, false)
		e.enrol(e.app.Client(), "ana", phone.MethodSMS, nlNumber)
		clients := make([]*authtest.Client, 20)
		for i := range clients {
			clients[i] = e.app.Client()
			clients[i].Password("ana", authtest.Password)
		}
		code := e.code(phone.MethodSMS, nlNumber)
		var mu sync.Mutex
		wins := 0
		authtest.Race(len(clients), func(i int) {
			switch s := token(clients[i], code).Status; s {
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
			t.Fatalf("20 pending logins posted one phone code: %d succeeded, want exactly 1", wins)
		}
	})
}

// TestThrottledCodeRefused: after wrong codes the phone waits
// factor*2^(n-1); a right code in the wait is refused.
func TestThrottledCodeRefused(t *testing.T) {
	e := newEnv(t, envOptions{phone: func(c *phone.Config) { c.ThrottleFactor = 10 * time.Second }})
	e.app.User("ana", true, false)
	e.enrol(e.app.Client(), "ana", phone.MethodSMS, nlNumber)
	e.app.Clock.Advance(time.Minute)
	c := e.app.Client()
	c.Password("ana", authtest.Password)
	code := e.code(phone.MethodSMS, nlNumber)
	wrong := "000000"
	if code == wrong {
		wrong = "111111"
	}
	if r := token(c, wrong); !strings.Contains(r.Body, "Invalid token") {
		t.Fatalf("wrong code: %s", r.Body)
	}
	e.app.Clock.Advance(5 * time.Second) // half of the 10 s wait
	if r := token(c, code); r.Status != http.StatusOK {
		t.Fatalf("a throttled attempt with the right code got in: want 200 with the token form, got %d", r.Status)
	}
	e.app.Clock.Advance(6 * time.Second)
	wantStatus(t, token(c, code), http.StatusSeeOther, "the right code after the wait")
}

// TestOnlyChosenDeviceChecked: with an authenticator app and a backup
// phone, a code is checked only against the device asked for, and
// failures count only against it.
func TestOnlyChosenDeviceChecked(t *testing.T) {
	e := newEnv(t, envOptions{phone: func(c *phone.Config) { c.ThrottleFactor = time.Hour }})
	e.app.User("ana", true, false)
	c := e.app.Client()
	secret := e.enrolTOTP(c, "ana")
	e.addBackup(c, phone.MethodSMS, nlNumber)
	phoneKey := key(phone.MethodSMS, e.device("ana", nlNumber).ID)
	e.app.Clock.Advance(2 * time.Minute)

	l := e.app.Client()
	r := l.Password("ana", authtest.Password)
	if !strings.Contains(text(r), "authenticator app") {
		t.Fatalf("the backup phone became the default device: %s", r.Body)
	}
	if _, n := e.log.last("SMS", nlNumber); n != 1 {
		t.Fatalf("the password step sent a text message to the backup phone (%d in all)", n)
	}
	if !strings.Contains(text(r), "Send text message to "+nlMasked) {
		t.Fatalf("token step does not offer the backup phone: %s", r.Body)
	}
	// The phone is chosen: a code goes out; the TOTP code is not checked against it.
	r = choose(l, phoneKey)
	if _, n := e.log.last("SMS", nlNumber); n != 2 {
		t.Fatalf("choosing the phone sent no code")
	}
	smsCode := e.code(phone.MethodSMS, nlNumber)
	if r := token(l, e.app.Code(secret, 0)); r.Status != http.StatusOK {
		t.Fatalf("a TOTP code was accepted while the phone was asked for: want 200 with the token form, got %d", r.Status)
	}
	// That failure throttles the phone (an hour), not the authenticator app.
	if r := token(l, smsCode); r.Status != http.StatusOK {
		t.Fatalf("the throttled phone accepted its code: want 200 with the token form, got %d", r.Status)
	}
	choose(l, "generator/1")
	if r := token(l, smsCode); r.Status != http.StatusOK {
		t.Fatalf("the phone's code was accepted for the authenticator app: want 200 with the token form, got %d", r.Status)
	}
	e.app.Clock.Advance(2 * time.Second)
	wantStatus(t, token(l, e.app.Code(secret, 0)), http.StatusSeeOther, "the app's code, the app's own back-off over")
}

// TestTokenStepFailuresRecorded: a wrong phone code is a security event
// naming the phone.
func TestTokenStepFailuresRecorded(t *testing.T) {
	e := newEnv(t, envOptions{})
	u := e.app.User("ana", true, false)
	e.enrol(e.app.Client(), "ana", phone.MethodSMS, nlNumber)
	e.app.Clock.Advance(time.Minute)
	c := e.app.Client()
	c.Password("ana", authtest.Password)
	token(c, "999999x")
	evs, err := e.app.Service.Events(t.Context(), u.ID, 5)
	if err != nil {
		t.Fatal(err)
	}
	d := e.device("ana", nlNumber)
	if len(evs) == 0 || evs[0].Kind != auth.EventTokenFailed || evs[0].Device != d.Key() {
		t.Fatalf("want a token_failed event for %s, got %+v", d.Key(), evs)
	}
	for _, ev := range evs {
		if strings.Contains(ev.Detail, e.code(phone.MethodSMS, nlNumber)) {
			t.Fatalf("an event holds the code: %+v", ev)
		}
	}
}
