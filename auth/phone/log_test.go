package phone_test

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/gatehouse/gatehouse/auth"
	"github.com/gatehouse/gatehouse/auth/authtest"
	"github.com/gatehouse/gatehouse/auth/phone"
)

// TestLogHoldsNoSecrets: through the site's real logger (Config.Logger),
// enrolment and login by text message and by voice call (Twilio speaking
// the real protocol, with its TwiML callback) leave no code, password or
// session id in the log. (The development gateway phone.Fake logs codes
// by design, to its own logger; it is not the site's.)
func TestLogHoldsNoSecrets(t *testing.T) {
	for _, gw := range []string{"fake", "twilio"} {
		for _, method := range []string{phone.MethodSMS, phone.MethodCall} {
			t.Run(gw+" "+method, func(t *testing.T) {
				sink := &authtest.LogSink{}
				e := newEnv(t, envOptions{sms: gw, call: gw, auth: func(c *auth.Config) { c.Logger = sink.Logger() }})
				e.app.User("ana", true, false)
				seen := []string{authtest.Password}
				c := e.app.Client()
				e.enrol(c, "ana", method, nlNumber)
				seen = append(seen, e.code(method, nlNumber))
				seen = append(seen, c.CookieValues()...)

				e.app.Clock.Advance(2 * time.Minute)
				l := e.app.Client()
				if r := l.Password("ana", authtest.Password); !strings.Contains(r.Body, `name="token-otp_token"`) {
					t.Fatalf("password step: want the token step, got %d", r.Status)
				}
				seen = append(seen, l.CookieValues()...)
				code := e.code(method, nlNumber)
				wrong := "000000"
				if code == wrong {
					wrong = "111111"
				}
				wantStatus(t, token(l, wrong), http.StatusOK, "a wrong code")
				e.app.Clock.Advance(2 * time.Second)
				wantStatus(t, token(l, code), http.StatusSeeOther, "login with the phone code")
				seen = append(seen, code, wrong)
				seen = append(seen, l.CookieValues()...)

				log := sink.String()
				if !strings.Contains(log, "path=/account/login/") {
					t.Fatalf("the injected logger did not get the access log:\n%s", log)
				}
				if gw == "twilio" && method == phone.MethodCall && !strings.Contains(log, "path=/twilio/inbound/two_factor/") {
					t.Fatalf("the call's TwiML callback is not in the log:\n%s", log)
				}
				if leaks := authtest.Leaks(log, seen...); len(leaks) > 0 {
					t.Errorf("secrets in the log: %q\n%s", leaks, log)
				}
			})
		}
	}
}
