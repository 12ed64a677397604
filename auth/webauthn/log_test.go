package webauthn_test

import (
	"net/http"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/descope/virtualwebauthn"

	"github.com/gatehouse/gatehouse/auth"
	"github.com/gatehouse/gatehouse/auth/authtest"
	"github.com/gatehouse/gatehouse/internal/testenv"
)

var signatureRE = regexp.MustCompile(`"signature":"([^"]+)"`)

// TestLogHoldsNoSecrets: through the site's real logger (Config.Logger),
// enrolling a security key and logging in with it, after an assertion by
// an unknown key was refused, leave no password, assertion signature or
// session id in the log.
func TestLogHoldsNoSecrets(t *testing.T) {
	sink := &authtest.LogSink{}
	s := newSiteOn(t, testenv.DB{}, nil, func(c *auth.Config) { c.Logger = sink.Logger() })
	s.app.User("ana", true, false)
	k := s.newKey(virtualwebauthn.AuthenticatorOptions{})
	c := s.client()
	s.enrol(c, "ana", k)
	seen := append([]string{authtest.Password}, c.CookieValues()...)

	s.app.Clock.Advance(time.Minute)
	l := s.client()
	s.passwordToToken(l, "ana")
	stranger := s.newKey(virtualwebauthn.AuthenticatorOptions{})
	bad := stranger.assert(t, postJSON(l, beginLogin, "{}").Body)
	if r := postToken(l, bad); r.Status != http.StatusOK {
		t.Fatalf("an unknown key: want 200 with the token form, got %d", r.Status)
	}
	s.app.Clock.Advance(2 * time.Second)
	good := k.assert(t, postJSON(l, beginLogin, "{}").Body)
	if r := postToken(l, good); r.Status != http.StatusSeeOther {
		t.Fatalf("login with the key: want 303, got %d %s", r.Status, r.Body)
	}
	for _, a := range []string{bad, good} {
		if m := signatureRE.FindStringSubmatch(a); m != nil {
			seen = append(seen, m[1])
		} else {
			t.Fatalf("no signature in the assertion %s", a)
		}
	}
	seen = append(seen, l.CookieValues()...)

	log := sink.String()
	if !strings.Contains(log, "path=/account/two_factor/webauthn/begin-login/") {
		t.Fatalf("the injected logger did not get the access log:\n%s", log)
	}
	if leaks := authtest.Leaks(log, seen...); len(leaks) > 0 {
		t.Errorf("secrets in the log: %q\n%s", leaks, log)
	}
}
