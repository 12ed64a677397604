package webauthn_test

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/descope/virtualwebauthn"

	"github.com/gatehouse/gatehouse/auth"
	"github.com/gatehouse/gatehouse/auth/authtest"
	"github.com/gatehouse/gatehouse/auth/webauthn"
)

const passkeyButton = "Sign in with a passkey"

// passkeyAnswer begins a passkey sign-in in c and answers it with k.
func passkeyAnswer(t *testing.T, c *authtest.Client, k *key) string {
	t.Helper()
	r := postJSON(c, passkeyBegin, "{}")
	o := parseOptions(t, r)
	if len(o.PublicKey.Allow) != 0 || o.PublicKey.UserVerification != "required" {
		t.Fatalf("passkey options must be discoverable (no allow list) and require UV: %s", r.Body)
	}
	va, err := virtualwebauthn.ParseAssertionOptions(r.Body)
	if err != nil {
		t.Fatal(err)
	}
	k.cred.Counter++
	return virtualwebauthn.CreateAssertionResponse(k.rp, k.auth, k.cred, *va)
}

func finishPasskey(c *authtest.Client, answer, next string) *authtest.Response {
	b, _ := json.Marshal(next)
	return postJSON(c, passkeyEnd, `{"credential":`+answer+`,"next":`+string(b)+`}`)
}

// TestPasskeyLogin: with passkey login on, a discoverable credential with
// user verification signs in from the login page (both factors), and
// every shortcut around that is refused.
func TestPasskeyLogin(t *testing.T) {
	s := newSite(t, func(c *webauthn.Config) { c.PasskeyLogin = true })
	u := s.app.User("ana", true, false)
	k := s.newKey(virtualwebauthn.AuthenticatorOptions{})
	s.enrol(s.client(), "ana", k)

	c := s.client()
	if r := c.Get(loginURL); !strings.Contains(r.Body, passkeyButton) || !strings.Contains(r.Body, `data-webauthn="passkey"`) {
		t.Fatalf("the login page should offer %q: %s", passkeyButton, r.Body)
	}
	before := c.SessionCookie()
	answer := passkeyAnswer(t, c, k)
	if c.SessionCookie() == "" {
		t.Fatal("passkey begin must bind the ceremony to a session")
	}
	before = c.SessionCookie()
	r := finishPasskey(c, answer, "/admin/")
	if r.Status != http.StatusOK || !strings.Contains(r.Body, `"redirect":"/admin/"`) {
		t.Fatalf("passkey sign-in: want 200 with the redirect, got %d %s", r.Status, r.Body)
	}
	if !verified(c) {
		t.Fatal("passkey sign-in did not verify the session")
	}
	if c.SessionCookie() == before {
		t.Error("passkey sign-in must give the session a new id")
	}
	// The same answer again, in a new session with its own ceremony.
	c2 := s.client()
	passkeyAnswer(t, c2, k)
	if r := finishPasskey(c2, answer, ""); r.Status != http.StatusBadRequest {
		t.Fatalf("a replayed passkey answer: want 400, got %d %s", r.Status, r.Body)
	}

	stranger := s.newKey(virtualwebauthn.AuthenticatorOptions{})
	stranger.auth.Options.UserHandle = k.auth.Options.UserHandle
	cases := []struct {
		name   string
		answer func(c *authtest.Client) string
		want   int
		msg    string
	}{
		{"no user verification", func(c *authtest.Client) string {
			k.auth.Options.UserNotVerified = true
			defer func() { k.auth.Options.UserNotVerified = false }()
			return passkeyAnswer(t, c, k)
		}, http.StatusBadRequest, msgInvalid},
		{"no user presence", func(c *authtest.Client) string {
			k.auth.Options.UserNotPresent = true
			defer func() { k.auth.Options.UserNotPresent = false }()
			return passkeyAnswer(t, c, k)
		}, http.StatusBadRequest, msgInvalid},
		{"another user's handle", func(c *authtest.Client) string {
			h := k.auth.Options.UserHandle
			k.auth.Options.UserHandle = []byte("someone-else-entirely-0123456789")
			defer func() { k.auth.Options.UserHandle = h }()
			return passkeyAnswer(t, c, k)
		}, http.StatusBadRequest, msgInvalid},
		{"unregistered credential", func(c *authtest.Client) string {
			return passkeyAnswer(t, c, stranger)
		}, http.StatusBadRequest, "not registered here"},
		{"no ceremony begun", func(c *authtest.Client) string {
			a := passkeyAnswer(t, s.client(), k) // begun in another session
			return a
		}, http.StatusBadRequest, msgInvalid},
		{"counter went back", func(c *authtest.Client) string {
			k.cred.Counter = uint32(s.keys(u.ID)[0].SignCount) - 1 // presents the stored count again
			return passkeyAnswer(t, c, k)
		}, http.StatusBadRequest, msgCounter},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			s.app.Clock.Advance(time.Hour) // past any back-off
			c := s.client()
			r := finishPasskey(c, tc.answer(c), "")
			if r.Status != tc.want || !strings.Contains(r.Body, tc.msg) {
				t.Fatalf("want %d with %q, got %d %s", tc.want, tc.msg, r.Status, r.Body)
			}
			if verified(c) {
				t.Fatal("a refused passkey verified the session")
			}
		})
	}
	if ev := s.events(auth.EventCounterRegressed); len(ev) != 1 || ev[0].UserID != u.ID {
		t.Errorf("want one counter_regressed event, got %+v", ev)
	}

	t.Run("throttled", func(t *testing.T) {
		s.app.Clock.Advance(time.Hour)
		c := s.client()
		k.auth.Options.UserNotVerified = true
		finishPasskey(c, passkeyAnswer(t, c, k), "")
		k.auth.Options.UserNotVerified = false
		k.cred.Counter += 10
		r := finishPasskey(c, passkeyAnswer(t, c, k), "")
		if r.Status != http.StatusTooManyRequests || !strings.Contains(r.Body, msgThrottled) {
			t.Fatalf("a good passkey within the back-off: want 429, got %d %s", r.Status, r.Body)
		}
		s.app.Clock.Advance(5 * time.Minute) // the failures above add up: the 7th in a row waits 64 s
		if r := finishPasskey(c, passkeyAnswer(t, c, k), "//evil.example/"); r.Status != http.StatusOK || !strings.Contains(r.Body, `"redirect":"/account/two_factor/"`) {
			t.Fatalf("after the back-off: want 200 redirecting on site (not to //evil.example/), got %d %s", r.Status, r.Body)
		}
	})

	t.Run("inactive user", func(t *testing.T) {
		s.app.Clock.Advance(time.Hour)
		if err := s.app.DB.Model(&auth.User{}).Where("id = ?", u.ID).Update("is_active", false).Error; err != nil {
			t.Fatal(err)
		}
		c := s.client()
		if r := finishPasskey(c, passkeyAnswer(t, c, k), ""); r.Status != http.StatusBadRequest || verified(c) {
			t.Fatalf("an inactive user's passkey: want 400, got %d %s", r.Status, r.Body)
		}
	})
}

// TestPasskeyLoginOff: off by default: no button, no endpoints.
func TestPasskeyLoginOff(t *testing.T) {
	s := newSite(t, nil)
	c := s.client()
	if r := c.Get(loginURL); r.Status != http.StatusOK || strings.Contains(r.Body, passkeyButton) || strings.Contains(r.Body, `data-webauthn="passkey"`) {
		t.Fatalf("with passkey login off the login page must not offer it: %d", r.Status)
	}
	for _, p := range []string{passkeyBegin, passkeyEnd} {
		if r := postJSON(c, p, "{}"); r.Status != http.StatusNotFound {
			t.Errorf("%s with passkey login off: want 404, got %d", p, r.Status)
		}
	}
	if c.SessionCookie() != "" {
		t.Error("a refused passkey begin must not start a session")
	}
}
