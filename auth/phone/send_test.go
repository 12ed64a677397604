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

// submit posts a number on the sms step of a client in forced enrolment.
func submit(c *authtest.Client, number string) *authtest.Response {
	return post(c, "sms", "sms-number", number)
}

// enrolling returns a client of a new user on the sms number step.
func (e *env) enrolling(user string) *authtest.Client {
	e.t.Helper()
	e.app.User(user, true, false)
	c := e.app.Client()
	c.Password(user, authtest.Password)
	post(c, "welcome")
	post(c, "method", "method-method", "sms")
	return c
}

func sent(r *authtest.Response) bool { return strings.Contains(r.Body, `name="validation-token"`) }

// TestSendCooldown: one number gets at most one code per cooldown, also
// across users and devices; the wait is said in seconds.
func TestSendCooldown(t *testing.T) {
	forEachDB(t, func(t *testing.T, db testenv.DB) {
		e := newEnv(t, envOptions{db: db})
		a := e.enrolling("ana")
		if r := submit(a, nlNumber); !sent(r) {
			t.Fatalf("first send: %s", r.Body)
		}
		post(a, "validation", "wizard_goto_step", "method")
		post(a, "method", "method-method", "sms")
		e.app.Clock.Advance(20 * time.Second)
		r := submit(a, nlNumber)
		if sent(r) || !strings.Contains(text(r), "Please wait 40 seconds before asking for another one.") {
			t.Fatalf("a second send within the cooldown: %s", r.Body)
		}
		b := e.enrolling("bob")
		if r := submit(b, nlNumber); sent(r) {
			t.Fatalf("another user's send to the same number skipped the cooldown")
		}
		if r := submit(b, deNumber); !sent(r) {
			t.Fatalf("the cooldown of one number blocked another: %s", r.Body)
		}
		if _, n := e.log.last("SMS", nlNumber); n != 1 {
			t.Fatalf("the gateway got %d messages for the number, want 1", n)
		}
		e.app.Clock.Advance(40 * time.Second)
		if r := submit(a, nlNumber); !sent(r) {
			t.Fatalf("send after the cooldown: %s", r.Body)
		}
		// German plural forms.
		c := e.enrolling("cem")
		e.app.Clock.Advance(59 * time.Second)
		post(c, "method", "method-method", "sms")
		r = c.Post(setupURL+"?lang=de", "setup_view-current_step", "sms", "sms-number", nlNumber)
		if !strings.Contains(text(r), "Bitte warten Sie 1 Sekunde,") {
			t.Fatalf("German cooldown message: %s", r.Body)
		}
	})
}

// TestSendBudgets: the budgets per user, number, country calling code and
// site each stop sends (SMS pumping) without reaching the gateway, and
// the refusal is a security event.
func TestSendBudgets(t *testing.T) {
	cases := []struct {
		name   string
		limit  func(*phone.Config)
		first  []string // user, number pairs that go out
		refuse []string // the pair that is refused
		other  []string // a pair still allowed afterwards ("" when none)
	}{
		{"per user", func(c *phone.Config) { c.UserLimit = phone.Limit{Max: 2, Window: time.Hour} },
			[]string{"u1", nlNumber, "u1", nlMobile}, []string{"u1", deNumber}, []string{"u2", deNumber}},
		{"per number", func(c *phone.Config) { c.NumberLimit = phone.Limit{Max: 2, Window: time.Hour} },
			[]string{"u1", nlNumber, "u2", nlNumber}, []string{"u3", nlNumber}, []string{"u3", nlMobile}},
		{"per country prefix", func(c *phone.Config) { c.PrefixLimit = phone.Limit{Max: 2, Window: time.Hour} },
			[]string{"u1", nlNumber, "u2", nlMobile}, []string{"u3", "+31201234567"}, []string{"u3", deNumber}},
		{"site", func(c *phone.Config) { c.GlobalLimit = phone.Limit{Max: 2, Window: time.Hour} },
			[]string{"u1", nlNumber, "u2", nlMobile}, []string{"u3", deNumber}, nil},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t, envOptions{phone: func(c *phone.Config) {
				c.SendCooldown = 0
				c.UserLimit, c.NumberLimit, c.PrefixLimit, c.GlobalLimit = phone.Limit{}, phone.Limit{}, phone.Limit{}, phone.Limit{}
				tc.limit(c)
			}, auth: func(c *auth.Config) { c.LoginTimeout, c.SessionIdle = 0, 2*time.Hour }}) // the pending enrolment outlives the window
			clients := map[string]*authtest.Client{}
			client := func(u string) *authtest.Client {
				if clients[u] == nil {
					clients[u] = e.enrolling(u)
				}
				return clients[u]
			}
			for i := 0; i < len(tc.first); i += 2 {
				c := client(tc.first[i])
				if r := submit(c, tc.first[i+1]); !sent(r) {
					t.Fatalf("send %d within the budget refused: %s", i/2+1, text(r))
				}
				post(c, "validation", "wizard_goto_step", "method")
				post(c, "method", "method-method", "sms")
			}
			before := len(e.log.all())
			r := submit(client(tc.refuse[0]), tc.refuse[1])
			if sent(r) || !strings.Contains(text(r), "Too many codes have been sent recently.") {
				t.Fatalf("a send over the budget: %s", text(r))
			}
			if len(e.log.all()) != before {
				t.Fatalf("a refused send reached the gateway")
			}
			u, _ := e.app.Service.UserByName(t.Context(), tc.refuse[0])
			evs, _ := e.app.Service.Events(t.Context(), u.ID, 1)
			if len(evs) != 1 || evs[0].Kind != auth.EventThrottled || !strings.Contains(evs[0].Detail, "phone send budget per") {
				t.Fatalf("refusal not recorded: %+v", evs)
			}
			if tc.other != nil {
				if r := submit(client(tc.other[0]), tc.other[1]); !sent(r) {
					t.Fatalf("an unrelated send was refused: %s", text(r))
				}
			}
			// The window passes: sending works again.
			e.app.Clock.Advance(time.Hour)
			if r := submit(client(tc.refuse[0]), tc.refuse[1]); !sent(r) {
				t.Fatalf("send in the next window: %s", text(r))
			}
		})
	}
}

// TestNumbers: what the number step accepts and how it says no.
func TestNumbers(t *testing.T) {
	cases := []struct {
		name, typed, stored, err string
	}{
		{"national with default region", "010 123 4567", nlNumber, ""},
		{"international", "+31 10 123 4567", nlNumber, ""},
		{"00 prefix", "0031101234567", nlNumber, ""},
		{"punctuation", "(010) 123-45-67", nlNumber, ""},
		{"other country", "+49 30 123456", deNumber, ""},
		{"empty", "  ", "", "Enter a phone number."},
		{"letters", "call me", "", "This is not a valid phone number."},
		{"too short", "+31 10", "", "This is not a valid phone number."},
		{"extension", "+31 10 123 4567 ext. 12", "", "This is not a valid phone number."},
		{"too long", "+31 10 123 4567" + strings.Repeat("8", 80), "", "This is not a valid phone number."},
		{"Arabic-Indic digits", "+31 ١٠ ١٢٣ ٤٥٦٧", nlNumber, ""},
		{"country not allowed", "+1 201 555 0123", "", "Codes cannot be sent to phone numbers of this country."},
	}
	e := newEnv(t, envOptions{phone: func(c *phone.Config) {
		c.SendCooldown = 0
		c.AllowedCountries = []string{"nl", "DE"}
	}})
	for i, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			user := fmt.Sprintf("u%d", i)
			c := e.enrolling(user)
			r := submit(c, tc.typed)
			if tc.err != "" {
				if sent(r) || !strings.Contains(text(r), tc.err) || !strings.Contains(r.Body, `aria-invalid="true"`) {
					t.Fatalf("%q: want %q, got %s", tc.typed, tc.err, text(r))
				}
				return
			}
			if !sent(r) {
				t.Fatalf("%q refused: %s", tc.typed, text(r))
			}
			if d := e.device(user, tc.stored); d.Number != tc.stored {
				t.Fatalf("stored %q, want %q", d.Number, tc.stored)
			}
		})
	}
}

// TestAllowedCountriesAtSend: a phone registered before its country was
// taken off the list gets no more codes.
func TestAllowedCountriesAtSend(t *testing.T) {
	e := newEnv(t, envOptions{phone: func(c *phone.Config) { c.AllowedCountries = []string{"NL"} }})
	u := e.app.User("ana", true, false)
	// As registered while Germany was allowed (the setting changed since).
	d := phone.Device{UserID: u.ID, Name: phone.NameDefault, Method: phone.MethodSMS, Number: deNumber, Confirmed: true,
		SealedKey: e.app.Service.Seal(make([]byte, 20), fmt.Sprintf("phone/%d", u.ID)), Digits: 6}
	if err := e.app.DB.Create(&d).Error; err != nil {
		t.Fatal(err)
	}
	c := e.app.Client()
	r := c.Password("ana", authtest.Password)
	if !strings.Contains(r.Body, `name="token-otp_token"`) || !strings.Contains(text(r), "Codes cannot be sent to phone numbers of this country.") {
		t.Fatalf("token step: %s", text(r))
	}
	if lines := e.log.all(); len(lines) != 0 {
		t.Fatalf("a code went to a country not allowed: %q", lines)
	}
}

// TestGatewayFailure: a failing provider is a message, not a 500, and the
// call it would have made leaves no usable call id behind.
func TestGatewayFailure(t *testing.T) {
	for _, method := range []string{phone.MethodSMS, phone.MethodCall} {
		t.Run(method, func(t *testing.T) {
			e := newEnv(t, envOptions{sms: "twilio", call: "twilio"})
			e.app.User("ana", true, false)
			c := e.app.Client()
			e.tw.FailNext(400)
			r := e.startEnrol(c, "ana", method, nlNumber)
			if r.Status != http.StatusOK || sent(r) || !strings.Contains(text(r), "The code could not be sent to "+nlMasked) {
				t.Fatalf("failed send: %d %s", r.Status, text(r))
			}
			var n int64
			e.app.DB.Table("gatehouse_phone_call").Count(&n)
			if n != 0 {
				t.Fatalf("a failed call left %d call rows", n)
			}
		})
	}
}

// TestConcurrentSends: parallel requests cannot get past the cooldown or
// a budget (SMS pumping by racing).
func TestConcurrentSends(t *testing.T) {
	cases := []struct {
		name     string
		cooldown time.Duration
		limit    phone.Limit
		want     int
	}{
		{"cooldown", time.Minute, phone.Limit{}, 1},
		{"number budget", 0, phone.Limit{Max: 3, Window: time.Hour}, 3},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			forEachDB(t, func(t *testing.T, db testenv.DB) {
				e := newEnv(t, envOptions{db: db, phone: func(c *phone.Config) {
					c.SendCooldown = tc.cooldown
					c.UserLimit, c.NumberLimit, c.PrefixLimit, c.GlobalLimit = phone.Limit{}, tc.limit, phone.Limit{}, phone.Limit{}
				}})
				clients := make([]*authtest.Client, 12)
				for i := range clients {
					clients[i] = e.enrolling(fmt.Sprintf("u%d", i))
				}
				authtest.Race(len(clients), func(i int) { submit(clients[i], nlNumber) })
				if _, n := e.log.last("SMS", nlNumber); n != tc.want {
					t.Fatalf("12 parallel sends to one number: %d went out, want %d", n, tc.want)
				}
			})
		})
	}
}

// TestEightDigits: GATEHOUSE_TOTP_DIGITS=8 gives phones 8-digit codes.
func TestEightDigits(t *testing.T) {
	e := newEnv(t, envOptions{auth: func(c *auth.Config) { c.TOTPDigits = 8 }})
	e.app.User("ana", true, false)
	e.enrol(e.app.Client(), "ana", phone.MethodSMS, nlNumber)
	if code := e.code(phone.MethodSMS, nlNumber); len(code) != 8 {
		t.Fatalf("code %q has %d digits, want 8", code, len(code))
	}
	e.app.Clock.Advance(2 * time.Minute)
	c := e.app.Client()
	c.Password("ana", authtest.Password)
	code := e.code(phone.MethodSMS, nlNumber)
	if r := token(c, code[:6]); r.Status != http.StatusOK {
		t.Fatalf("six of eight digits logged in: want 200 with the token form, got %d", r.Status)
	}
	e.app.Clock.Advance(2 * time.Second)
	wantStatus(t, token(c, code[:4]+" "+code[4:]), http.StatusSeeOther, "eight digits with a space")
}
