package auth_test

import (
	"bytes"
	"log/slog"
	"net/http"
	"strings"
	"testing"

	"github.com/gatehouse/gatehouse/auth"
	"github.com/gatehouse/gatehouse/auth/authtest"
	"github.com/gatehouse/gatehouse/auth/session"
	"github.com/gatehouse/gatehouse/internal/testenv"
)

// The probes answer without a session, say nothing but ok/unavailable, and
// /readyz follows the stores and the shutdown.
func TestHealthAndReadiness(t *testing.T) {
	app := authtest.New(t, authtest.Options{})
	c := app.Client()
	for _, path := range []string{auth.HealthzPath, auth.ReadyzPath} {
		r := c.Get(path)
		if r.Status != http.StatusOK || r.Body != "ok\n" {
			t.Errorf("%s: want 200 ok, got %d %q", path, r.Status, r.Body)
		}
		if r.Header.Get("Set-Cookie") != "" || r.Header.Get("Cache-Control") != "no-store" {
			t.Errorf("%s: want no cookie and no-store, got %q %q", path, r.Header.Get("Set-Cookie"), r.Header.Get("Cache-Control"))
		}
	}
	if r := c.Post(auth.ReadyzPath); r.Status != http.StatusMethodNotAllowed {
		t.Errorf("POST /readyz: want 405, got %d", r.Status)
	}

	app.Service.Drain()
	if r := c.Get(auth.ReadyzPath); r.Status != http.StatusServiceUnavailable || r.Body != "unavailable\n" {
		t.Errorf("draining /readyz: want 503 unavailable, got %d %q", r.Status, r.Body)
	}
	if r := c.Get(auth.HealthzPath); r.Status != http.StatusOK {
		t.Errorf("draining /healthz: want 200, got %d", r.Status)
	}

	down := authtest.New(t, authtest.Options{})
	sqlDB, _ := down.DB.DB()
	_ = sqlDB.Close()
	if r := down.Client().Get(auth.ReadyzPath); r.Status != http.StatusServiceUnavailable || strings.Contains(r.Body, "database") {
		t.Errorf("database closed: want a bare 503, got %d %q", r.Status, r.Body)
	}
}

// With sessions in Redis, /readyz is 503 while Redis does not answer, and
// 200 again when it is back, without a restart.
func TestReadinessFollowsRedis(t *testing.T) {
	url, prefix := testenv.Redis(t)
	proxy := testenv.NewProxy(t, strings.TrimSuffix(strings.TrimPrefix(url, "redis://"), "/0"))
	backend, err := session.NewRedis("redis://"+proxy.Addr+"/0", prefix, nil)
	if err != nil {
		t.Fatal(err)
	}
	app := authtest.New(t, authtest.Options{Config: func(c *auth.Config) { c.SessionBackend = backend }})
	c := app.Client()
	if r := c.Get(auth.ReadyzPath); r.Status != http.StatusOK {
		t.Fatalf("redis up: want 200, got %d", r.Status)
	}
	proxy.Cut()
	if r := c.Get(auth.ReadyzPath); r.Status != http.StatusServiceUnavailable {
		t.Fatalf("redis down: want 503, got %d", r.Status)
	}
	proxy.Restore(t)
	if r := c.Get(auth.ReadyzPath); r.Status != http.StatusOK {
		t.Fatalf("redis back: want 200, got %d", r.Status)
	}
}

// Probes stay out of the access log.
func TestProbesNotInAccessLog(t *testing.T) {
	var buf bytes.Buffer
	prev := slog.Default()
	slog.SetDefault(slog.New(slog.NewTextHandler(&buf, nil)))
	t.Cleanup(func() { slog.SetDefault(prev) })
	app := authtest.New(t, authtest.Options{})
	app.Client().Get(auth.HealthzPath)
	app.Client().Get(auth.ReadyzPath)
	app.Client().Get("/account/login/")
	if strings.Contains(buf.String(), "z\"") || strings.Contains(buf.String(), "path=/healthz") || strings.Contains(buf.String(), "path=/readyz") {
		t.Fatalf("probes in the access log:\n%s", buf.String())
	}
	if !strings.Contains(buf.String(), "path=/account/login/") {
		t.Fatalf("the access log lost the login page:\n%s", buf.String())
	}
}
