package auth_test

import (
	"net/http"
	"regexp"
	"strings"
	"testing"

	"github.com/gatehouse/gatehouse/auth"
	"github.com/gatehouse/gatehouse/auth/authtest"
)

var generatedID = regexp.MustCompile(`^[0-9a-f]{24}$`)

// Every request gets an id: a trusted proxy's plain X-Request-ID, else a
// fresh one; it is in the response, in the request's log lines and on the
// 500 page.
func TestRequestID(t *testing.T) {
	var sink authtest.LogSink
	app := authtest.New(t, authtest.Options{Config: func(c *auth.Config) {
		c.Logger = sink.Logger()
		c.TrustedProxies = []string{"127.0.0.1"}
	}})
	c := app.Client()
	for _, tc := range []struct {
		name, sent string
		keep       bool
	}{
		{"none sent", "", false},
		{"trusted proxy's id kept", "lb-4711.abc_DEF", true},
		{"odd characters replaced", "a b<script>", false},
		{"too long replaced", strings.Repeat("x", 65), false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var r *authtest.Response
			if tc.sent != "" {
				r = c.Get("/account/login/", "X-Request-ID", tc.sent)
			} else {
				r = c.Get("/account/login/")
			}
			id := r.Header.Get("X-Request-ID")
			if r.Status != http.StatusOK || (tc.keep && id != tc.sent) || (!tc.keep && !generatedID.MatchString(id)) {
				t.Fatalf("want 200 and id kept=%v, got %d %q", tc.keep, r.Status, id)
			}
			if !strings.Contains(sink.String(), "request_id="+id) {
				t.Fatalf("the request's log line lacks request_id=%s", id)
			}
		})
	}

	// A server error shows the id, so a user's report finds the log lines.
	sqlDB, _ := app.DB.DB()
	_ = sqlDB.Close()
	r := c.Post("/account/login/", "login_view-current_step", "auth", "auth-username", "ana", "auth-password", "whatever it is")
	id := r.Header.Get("X-Request-ID")
	if r.Status != http.StatusInternalServerError || id == "" || !strings.Contains(r.Body, id) {
		t.Fatalf("500 page: want the request id %q in the body, got %d", id, r.Status)
	}
}

// Without a trusted proxy, a client's X-Request-ID is not believed.
func TestRequestIDFromClientIgnored(t *testing.T) {
	app := authtest.New(t, authtest.Options{})
	r := app.Client().Get("/account/login/", "X-Request-ID", "forged-id")
	if r.Status != http.StatusOK || !generatedID.MatchString(r.Header.Get("X-Request-ID")) {
		t.Fatalf("an untrusted client's id must be replaced: %d %q", r.Status, r.Header.Get("X-Request-ID"))
	}
}
