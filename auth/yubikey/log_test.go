package yubikey_test

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/gatehouse/gatehouse/auth"
	"github.com/gatehouse/gatehouse/auth/authtest"
	"github.com/gatehouse/gatehouse/auth/yubikey"
)

// TestLogHoldsNoSecrets: through the site's real logger (Config.Logger),
// a YubiKey enrolled against the validation service, and one registered
// for local checking, each log in after a replayed OTP was refused. No OTP
// (its public id may be logged: it names the key, like a device id),
// password, API key, AES key or session id appears in the log.
func TestLogHoldsNoSecrets(t *testing.T) {
	for _, local := range []bool{false, true} {
		name := "remote"
		if local {
			name = "local"
		}
		t.Run(name, func(t *testing.T) {
			sink := &authtest.LogSink{}
			st := newSite(t, yubikey.ModeRemote, nil, func(c *auth.Config) { c.Logger = sink.Logger() })
			u := st.User("ana", true, false)
			k := newKey(testPublicID, 0x10)
			seen := []string{authtest.Password, string(apiKey), k.local().AESKey, k.local().PrivateID}
			next := func() string {
				o := k.otp(t)
				if !local {
					st.fake.allow(o, int(k.ctr), int(k.use-1))
				}
				seen = append(seen, o, o[12:])
				return o
			}
			first := next()
			if local {
				if _, err := st.m.AddLocal(t.Context(), u.ID, k.local(), true); err != nil {
					t.Fatal(err)
				}
			} else {
				c := st.Client()
				if r := enrol(t, c, "ana", first); r.Status != http.StatusSeeOther || r.Location() != completeURL {
					t.Fatalf("enrolment: want 303 to %s, got %d %q", completeURL, r.Status, r.Location())
				}
				seen = append(seen, c.CookieValues()...)
			}

			l, _ := tokenStep(t, st, "ana")
			if local {
				if r := post(l, first); r.Status != http.StatusSeeOther {
					t.Fatalf("login: want 303, got %d %s", r.Status, r.Body)
				}
				l, _ = tokenStep(t, st, "ana")
				st.Clock.Advance(2 * time.Second)
			}
			if r := post(l, first); r.Status != http.StatusOK {
				t.Fatalf("a replayed OTP: want 200 with the token form, got %d", r.Status)
			}
			st.Clock.Advance(2 * time.Second)
			if r := post(l, next()); r.Status != http.StatusSeeOther {
				t.Fatalf("login: want 303, got %d %s", r.Status, r.Body)
			}
			seen = append(seen, l.CookieValues()...)

			log := sink.String()
			if !strings.Contains(log, "path=/account/login/") {
				t.Fatalf("the injected logger did not get the access log:\n%s", log)
			}
			if leaks := authtest.Leaks(log, seen...); len(leaks) > 0 {
				t.Errorf("secrets in the log: %q\n%s", leaks, log)
			}
		})
	}
}
