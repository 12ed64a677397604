package email_test

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/gatehouse/gatehouse/auth"
	"github.com/gatehouse/gatehouse/auth/authtest"
)

// TestLogHoldsNoSecrets: through the site's real logger (Config.Logger),
// enrolment and login by email code, with a wrong code on the way, leave
// no code, password, session id or full address in the log.
func TestLogHoldsNoSecrets(t *testing.T) {
	sink := &authtest.LogSink{}
	st := newSite(t, nil, func(c *auth.Config) { c.Logger = sink.Logger() })
	st.User("ana", true, false)
	const addr = "ana.private@example.org"
	c := st.enrol(t, "ana", addr)
	seen := []string{authtest.Password, addr, st.sink.Code(addr)}
	seen = append(seen, c.CookieValues()...)

	st.Clock.Advance(2 * time.Minute)
	l, _ := st.tokenStep(t, "ana")
	code := st.sink.Code(addr)
	wrong := "000000"
	if code == wrong {
		wrong = "111111"
	}
	if r := token(l, wrong); r.Status != http.StatusOK || !strings.Contains(r.Body, "Invalid token") {
		t.Fatalf("a wrong code: want 200 with the form's error, got %d", r.Status)
	}
	st.Clock.Advance(2 * time.Second)
	if r := token(l, code); r.Status != http.StatusSeeOther {
		t.Fatalf("login with the email code: want 303, got %d %s", r.Status, r.Body)
	}
	seen = append(seen, code, wrong)
	seen = append(seen, l.CookieValues()...)

	log := sink.String()
	if !strings.Contains(log, "path=/account/login/") || !strings.Contains(log, "email: code sent") {
		t.Fatalf("the injected logger did not get the site's lines:\n%s", log)
	}
	if leaks := authtest.Leaks(log, seen...); len(leaks) > 0 {
		t.Errorf("secrets in the log: %q\n%s", leaks, log)
	}
}
