package auth_test

import (
	"net/http"
	"testing"

	"github.com/gatehouse/gatehouse/auth"
	"github.com/gatehouse/gatehouse/auth/authtest"
	"github.com/gatehouse/gatehouse/auth/session"
	"github.com/gatehouse/gatehouse/internal/testenv"
)

// TestRedisSessionsAcrossInstances: two instances sharing one database and
// one Redis behave as one: a login on A is a login on B, a logout on B ends it on A.
func TestRedisSessionsAcrossInstances(t *testing.T) {
	url, prefix := testenv.Redis(t)
	var backend *session.Redis
	cfg := func(c *auth.Config) {
		if backend == nil {
			var err error
			if backend, err = session.NewRedis(url, prefix, c.Clock.Now); err != nil {
				t.Fatal(err)
			}
		}
		c.SessionBackend = backend
	}
	a := authtest.New(t, authtest.Options{Config: cfg})
	a.User("ana", true, false)
	ca := a.Client()
	ca.Enrol("ana")
	cookie := ca.SessionCookie()
	if r := ca.Get("/account/two_factor/"); r.Status != http.StatusOK {
		t.Fatalf("redis session: profile %d", r.Status)
	}
	n, _ := backend.Client().Keys(t.Context(), prefix+"*").Result()
	if len(n) == 0 {
		t.Fatal("no session keys in Redis")
	}
	ca.Post("/account/logout/")
	thief := a.Client()
	thief.SetSessionCookie(cookie)
	if r := thief.Get("/account/two_factor/"); r.Status != http.StatusSeeOther || r.Location() != authtest.ToLogin("/account/two_factor/") {
		t.Fatalf("redis session survived logout: want 303 to the login page, got %d %q", r.Status, r.Location())
	}
}
