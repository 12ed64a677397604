package webauthn_test

import (
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/descope/virtualwebauthn"

	"github.com/gatehouse/gatehouse/auth"
	"github.com/gatehouse/gatehouse/auth/authtest"
	"github.com/gatehouse/gatehouse/auth/webauthn"
	"github.com/gatehouse/gatehouse/internal/testenv"
)

// TestStores runs the storage-sensitive flows on every configured database
// (SQLite always; PostgreSQL and MySQL when GATEHOUSE_TEST_*_DSN is set):
// the unique credential index, the challenge upsert and conditional
// DELETE, the counter's compare-and-set, the user-handle insert race.
func TestStores(t *testing.T) {
	for _, d := range testenv.DBs(t) {
		t.Run(d.Name, func(t *testing.T) {
			s := newSiteOn(t, d, func(c *webauthn.Config) { c.PasskeyLogin = true })
			u := s.app.User("ana", true, false)
			k1 := s.newKey(virtualwebauthn.AuthenticatorOptions{})
			k2 := s.newKey(virtualwebauthn.AuthenticatorOptions{})
			c := s.client()
			s.enrol(c, "ana", k1)

			// A second key, then both again (duplicates).
			add := func(k *key) *authtest.Response {
				return c.Post(webauthn.Base+"add/", "webauthn-name", "k", "webauthn-token", k.attest(t, postJSON(c, beginReg, "{}").Body))
			}
			if r := add(k2); r.Status != http.StatusSeeOther {
				t.Fatalf("second key: %d %s", r.Status, r.Body)
			}
			for _, k := range []*key{k1, k2} {
				if r := add(k); !strings.Contains(r.Body, msgDuplicate) {
					t.Fatalf("duplicate: %d %s", r.Status, r.Body)
				}
			}
			// Begin twice in one session: the second challenge replaces the
			// first; any answer spends the live one.
			lc := s.client()
			s.app.Clock.Advance(time.Minute)
			s.passwordToToken(lc, "ana")
			stale := postJSON(lc, beginLogin, "{}").Body
			postJSON(lc, beginLogin, "{}")
			if r := postToken(lc, k1.assert(t, stale)); r.Status != http.StatusOK {
				t.Fatalf("an answer to a replaced challenge logged in: want 200 with the token form, got %d", r.Status)
			}
			s.app.Clock.Advance(2 * time.Second)
			if r := postToken(lc, k1.assert(t, postJSON(lc, beginLogin, "{}").Body)); r.Status != http.StatusSeeOther {
				t.Fatalf("a new challenge after the refusal: %d %s", r.Status, r.Body)
			}

			// Counter regression.
			k1.cred.Counter = 0
			s.app.Clock.Advance(time.Minute)
			if r := s.login(s.client(), "ana", k1); !strings.Contains(r.Body, msgCounter) {
				t.Fatalf("counter regression: %d %s", r.Status, r.Body)
			}
			if len(s.events(auth.EventCounterRegressed)) != 1 {
				t.Fatal("counter regression not recorded")
			}

			// Concurrent posts of one answer: one login.
			k2.cred.Counter = 0
			s.app.Clock.Advance(time.Minute)
			cc := s.client()
			s.passwordToToken(cc, "ana")
			a := k2.assert(t, postJSON(cc, beginLogin, "{}").Body)
			var wg sync.WaitGroup
			var mu sync.Mutex
			wins := 0
			for range 6 {
				x := s.client()
				x.SetSessionCookie(cc.SessionCookie())
				wg.Go(func() {
					switch s := postToken(x, a).Status; s {
					case http.StatusSeeOther:
						mu.Lock()
						wins++
						mu.Unlock()
					case http.StatusOK: // refused, the token form again
					default:
						t.Errorf("a concurrent answer got %d: want 303 or 200", s)
					}
				})
			}
			wg.Wait()
			if wins != 1 {
				t.Fatalf("concurrent answers: want 1 login, got %d", wins)
			}

			// Passkey sign-in, and a repeated one (counters move on).
			for i := range 2 {
				s.app.Clock.Advance(time.Minute)
				pc := s.client()
				if r := finishPasskey(pc, passkeyAnswer(t, pc, k2), ""); r.Status != http.StatusOK || !verified(pc) {
					t.Fatalf("passkey sign-in %d: %d %s", i, r.Status, r.Body)
				}
			}
			ks := s.keys(u.ID)
			if len(ks) != 2 || ks[1].Uses != 3 || ks[1].SignCount != 3 {
				t.Fatalf("keys after the flows: %+v", ks)
			}

			// Disabling two-factor removes the keys and their ceremonies.
			if err := s.app.Service.DisableTwoFactor(t.Context(), u); err != nil {
				t.Fatal(err)
			}
			if n := len(s.keys(u.ID)); n != 0 {
				t.Fatalf("after disabling, %d keys remain", n)
			}
		})
	}
}
