package webauthn_test

import (
	"encoding/base64"
	"encoding/json"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/descope/virtualwebauthn"

	"github.com/gatehouse/gatehouse/auth"
	"github.com/gatehouse/gatehouse/auth/authtest"
	"github.com/gatehouse/gatehouse/auth/webauthn"
)

const (
	msgInvalid   = "The security key could not be verified."
	msgDuplicate = "This security key is already registered to your account."
	msgCounter   = "reported a lower use counter than before"
	msgThrottled = "Verification is paused"
)

// TestEnrolAndLogin: forced enrolment registers a key in the setup wizard
// (the second factor of that login), and a later login passes the token
// step with it; the counter, last use and events are stored.
func TestEnrolAndLogin(t *testing.T) {
	s := newSite(t, nil)
	u := s.app.User("ana", true, false)
	k := s.newKey(virtualwebauthn.AuthenticatorOptions{})

	c := s.client()
	s.enrol(c, "ana", k)
	if !verified(c) {
		t.Fatal("forced enrolment with a security key did not verify the session")
	}
	ks := s.keys(u.ID)
	if len(ks) != 1 || !ks[0].Confirmed || ks[0].CredentialHash == nil || ks[0].Name != "" {
		t.Fatalf("after enrolment want one confirmed key, got %+v", ks)
	}
	if ev := s.events(auth.EventDeviceAdded); len(ev) != 1 || ev[0].Device != "webauthn/"+itoa(ks[0].ID) || ev[0].IP == "" {
		t.Fatalf("want one device_added event for the key with the client IP, got %+v", ev)
	}
	if r := c.Get("/account/two_factor/"); !strings.Contains(r.Body, "security key") || !strings.Contains(r.Body, webauthn.Base) {
		t.Errorf("account page should name the security key and link the keys page: %s", r.Body)
	}

	// A later login: password, then the key.
	c2 := s.client()
	s.app.Clock.Advance(time.Minute)
	r := s.login(c2, "ana", k)
	if r.Status != http.StatusSeeOther {
		t.Fatalf("token step with the key: want 303, got %d %s", r.Status, r.Body)
	}
	if !verified(c2) {
		t.Fatal("login with the key did not verify the session")
	}
	ks = s.keys(u.ID)
	if ks[0].SignCount != 1 || ks[0].LastUsedAt == nil || !ks[0].LastUsedAt.Equal(s.app.Clock.Now()) || ks[0].Uses != 1 {
		t.Errorf("after login want sign count 1, last use now (service clock), 1 use; got %d %v %d", ks[0].SignCount, ks[0].LastUsedAt, ks[0].Uses)
	}
}

// TestBeginOptions: the ceremony options follow the settings.
func TestBeginOptions(t *testing.T) {
	cases := []struct {
		name   string
		adjust func(*webauthn.Config)
		check  func(t *testing.T, reg, login options)
	}{
		{"defaults", nil, func(t *testing.T, reg, login options) {
			p := reg.PublicKey
			if p.RP.ID != "localhost" || p.RP.Name != rpName || p.User.Name != "ana" {
				t.Errorf("rp %q %q user %q", p.RP.ID, p.RP.Name, p.User.Name)
			}
			if p.Selection.UserVerification != "discouraged" || p.Selection.ResidentKey != "discouraged" || p.Selection.Attachment != "" {
				t.Errorf("selection %+v", p.Selection)
			}
			if p.Attestation != "none" || p.Timeout != 120000 {
				t.Errorf("attestation %q timeout %d", p.Attestation, p.Timeout)
			}
			if len(p.User.ID) < 40 {
				t.Errorf("user handle %q should be 32 random bytes", p.User.ID)
			}
			if login.PublicKey.RPID != "localhost" || login.PublicKey.UserVerification != "discouraged" || len(login.PublicKey.Allow) != 1 {
				t.Errorf("login options %+v", login.PublicKey)
			}
		}},
		{"strict", func(c *webauthn.Config) {
			c.Attachment, c.UserVerification, c.Attestation = "cross-platform", "required", "direct"
			c.PreferredTransports = []string{"usb", "nfc"}
			c.PasskeyLogin = true
		}, func(t *testing.T, reg, login options) {
			p := reg.PublicKey
			if p.Selection.UserVerification != "required" || p.Selection.ResidentKey != "preferred" || p.Selection.Attachment != "cross-platform" {
				t.Errorf("selection %+v", p.Selection)
			}
			if p.Attestation != "direct" || p.Timeout != 300000 {
				t.Errorf("attestation %q timeout %d", p.Attestation, p.Timeout)
			}
			if l := login.PublicKey; l.UserVerification != "required" || len(l.Allow) != 1 || strings.Join(l.Allow[0].Transports, ",") != "usb,nfc" {
				t.Errorf("login options should require UV and carry the preferred transports: %+v", l)
			}
		}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			s := newSite(t, tc.adjust)
			s.app.User("ana", true, false)
			k := s.newKey(virtualwebauthn.AuthenticatorOptions{})
			c := s.client()
			s.toSetupStep(c, "ana")
			regR := postJSON(c, beginReg, "{}")
			reg := parseOptions(t, regR)
			if cc := regR.Header.Get("Cache-Control"); cc != "no-store" {
				t.Errorf("ceremony answers must not be cached: Cache-Control %q", cc)
			}
			r := c.Post(setupURL, "setup_view-current_step", "webauthn", "webauthn-token", k.attest(t, regR.Body))
			if r.Location() != completeURL {
				t.Fatalf("enrol: %d %s", r.Status, r.Body)
			}
			c2 := s.client()
			s.passwordToToken(c2, "ana")
			login := parseOptions(t, postJSON(c2, beginLogin, "{}"))
			if len(login.PublicKey.Allow) == 1 && login.PublicKey.Allow[0].ID != k.id() {
				t.Errorf("allowCredentials %q, want the key %q", login.PublicKey.Allow[0].ID, k.id())
			}
			tc.check(t, reg, login)
		})
	}
}

// TestRelyingPartyHost: the RP ID is the request's host (without port) or
// the configured one, whose subdomains may use it; an IP address or an
// unrelated host is refused with a 4xx whose message says what is wrong:
// the IP address, or the configured RP ID and the host, both named.
func TestRelyingPartyHost(t *testing.T) {
	const ipAdvice = "not by an IP address"
	cases := []struct {
		name, rpID, host string
		want             int
		says             []string // in the error message
		notSays          string
	}{
		{"host is the RP ID", "", "localhost:%s", http.StatusOK, nil, ""},
		{"IP address", "", "127.0.0.1:%s", http.StatusBadRequest, []string{ipAdvice}, ""},
		{"configured RP ID, same host", "localhost", "localhost:%s", http.StatusOK, nil, ""},
		{"configured RP ID, subdomain", "localhost", "admin.localhost:%s", http.StatusOK, nil, ""},
		{"configured RP ID, other host", "example.com", "localhost:%s", http.StatusBadRequest,
			[]string{"set up for example.com", "opened at localhost", "Open the site at example.com"}, ipAdvice},
		{"configured RP ID, suffix but not subdomain", "example.com", "badexample.com:%s", http.StatusBadRequest,
			[]string{"set up for example.com", "opened at badexample.com"}, ipAdvice},
		{"configured RP ID, IP address", "localhost", "127.0.0.1:%s", http.StatusBadRequest,
			[]string{"set up for localhost", "opened at 127.0.0.1"}, ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			s := newSite(t, func(c *webauthn.Config) { c.RPID = tc.rpID })
			s.app.User("ana", true, false)
			port := strings.TrimPrefix(s.host, "localhost:")
			c := s.clientAs(strings.Replace(tc.host, "%s", port, 1))
			s.toSetupStep(c, "ana")
			r := postJSON(c, beginReg, "{}")
			if r.Status != tc.want {
				t.Fatalf("begin-registration on %s with RP ID %q: want %d, got %d %s", tc.host, tc.rpID, tc.want, r.Status, r.Body)
			}
			if r.Status == http.StatusOK {
				want := tc.rpID
				if want == "" {
					want = "localhost"
				}
				if o := parseOptions(t, r); o.PublicKey.RP.ID != want {
					t.Errorf("rp.id %q, want %q", o.PublicKey.RP.ID, want)
				}
				return
			}
			var body struct{ Error string }
			if err := json.Unmarshal([]byte(r.Body), &body); err != nil {
				t.Fatalf("error answer is not JSON: %v %s", err, r.Body)
			}
			for _, w := range tc.says {
				if !strings.Contains(body.Error, w) {
					t.Errorf("message %q does not say %q", body.Error, w)
				}
			}
			if tc.notSays != "" && strings.Contains(body.Error, tc.notSays) {
				t.Errorf("message %q blames an IP address, but the site was opened by name", body.Error)
			}
		})
	}
}

// TestSecondKeyDuplicateAndRemove: more keys from the keys page, named;
// the same authenticator twice is excluded and refused with a message;
// keys are removable, but not the last way to pass the second factor.
func TestSecondKeyDuplicateAndRemove(t *testing.T) {
	s := newSite(t, nil)
	u := s.app.User("ana", true, false)
	other := s.app.User("bob", true, false)
	k1 := s.newKey(virtualwebauthn.AuthenticatorOptions{})
	k2 := s.newKey(virtualwebauthn.AuthenticatorOptions{})
	c := s.client()
	s.enrol(c, "ana", k1)

	page := c.Get(webauthn.Base)
	if page.Status != http.StatusOK || !strings.Contains(page.Body, "You have 1 security key registered.") {
		t.Fatalf("keys page: %d %s", page.Status, page.Body)
	}
	add := func(k *key, name string) *http.Response {
		t.Helper()
		o := postJSON(c, beginReg, "{}")
		att := k.attest(t, o.Body)
		r := c.Post(webauthn.Base+"add/", "webauthn-name", name, "webauthn-token", att)
		return &http.Response{StatusCode: r.Status, Header: r.Header, Status: r.Body}
	}

	// The second key, named.
	if r := add(k2, "Blue key"); r.StatusCode != http.StatusSeeOther || r.Header.Get("Location") != webauthn.Base {
		t.Fatalf("adding a second key: want 303 to the keys page, got %d %s", r.StatusCode, r.Status)
	}
	page = c.Get(webauthn.Base)
	if !strings.Contains(page.Body, "You have 2 security keys registered.") || !strings.Contains(page.Body, "Blue key") ||
		!strings.Contains(page.Body, "The security key was added.") {
		t.Fatalf("keys page after adding: %s", page.Body)
	}

	// The same authenticator again: excluded in the options, refused if it
	// answers anyway, with the message.
	o := parseOptions(t, postJSON(c, beginReg, "{}"))
	var excluded []string
	for _, e := range o.PublicKey.Exclude {
		excluded = append(excluded, e.ID)
	}
	if strings.Join(excluded, ",") != k1.id()+","+k2.id() {
		t.Errorf("excludeCredentials %v, want both keys", excluded)
	}
	for _, k := range []*key{k1, k2} {
		if r := add(k, "again"); r.StatusCode != http.StatusOK || !strings.Contains(r.Status, msgDuplicate) {
			t.Errorf("adding a registered key again: want 200 with %q, got %d %s", msgDuplicate, r.StatusCode, r.Status)
		}
	}
	if n := len(s.keys(u.ID)); n != 2 {
		t.Fatalf("after refused duplicates want 2 keys, got %d", n)
	}
	// A name that is too long, and a post without a key, are refused.
	if r := c.Post(webauthn.Base+"add/", "webauthn-name", strings.Repeat("x", 65), "webauthn-token", "{}"); !strings.Contains(r.Body, "at most 64 characters") {
		t.Errorf("a 65-character name: %d %s", r.Status, r.Body)
	}
	if r := c.Post(webauthn.Base+"add/", "webauthn-name", "x"); !strings.Contains(r.Body, "follow your browser") {
		t.Errorf("add without a key: %d %s", r.Status, r.Body)
	}

	// The second key logs in.
	c2 := s.client()
	s.app.Clock.Advance(time.Minute)
	if r := s.login(c2, "ana", k2); r.Status != http.StatusSeeOther {
		t.Fatalf("login with the second key: %d %s", r.Status, r.Body)
	}

	// Remove: someone else's key is not found; the second key goes; the
	// last one stays.
	ks := s.keys(u.ID)
	bobKey := webauthn.Credential{UserID: other.ID, Confirmed: true, CreatedAt: s.app.Clock.Now()}
	if err := s.app.DB.Create(&bobKey).Error; err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name string
		path string
		want int
	}{
		{"another user's key", webauthn.Base + "remove/" + itoa(bobKey.ID) + "/", http.StatusNotFound},
		{"not a number", webauthn.Base + "remove/x/", http.StatusNotFound},
		{"the second key", webauthn.Base + "remove/" + itoa(ks[1].ID) + "/", http.StatusSeeOther},
		{"the last key", webauthn.Base + "remove/" + itoa(ks[0].ID) + "/", http.StatusConflict},
	} {
		if r := c.Post(tc.path); r.Status != tc.want {
			t.Errorf("remove %s: want %d, got %d %s", tc.name, tc.want, r.Status, r.Body)
		}
	}
	if n := len(s.keys(u.ID)); n != 1 {
		t.Fatalf("after removing want 1 key, got %d", n)
	}
	if ev := s.events(auth.EventDeviceRemoved); len(ev) != 1 || ev[0].Device != "webauthn/"+itoa(ks[1].ID) {
		t.Errorf("want one device_removed event for the second key, got %+v", ev)
	}
	// The removed key no longer logs in.
	c3 := s.client()
	s.app.Clock.Advance(time.Minute)
	if r := s.login(c3, "ana", k2); r.Status != http.StatusOK || !strings.Contains(r.Body, msgInvalid) {
		t.Errorf("a removed key must not log in: %d %s", r.Status, r.Body)
	}
	// The keys page needs a verified session.
	if r := s.client().Get(webauthn.Base); r.Status != http.StatusSeeOther {
		t.Errorf("keys page for an anonymous visitor: want a redirect to the login, got %d", r.Status)
	}
}

// TestCounterRegression: a sign counter that goes backwards is refused,
// recorded as counter_regressed with the key, and flagged; the next good
// counter passes.
func TestCounterRegression(t *testing.T) {
	s := newSite(t, nil)
	u := s.app.User("ana", true, false)
	k := s.newKey(virtualwebauthn.AuthenticatorOptions{})
	s.enrol(s.client(), "ana", k)
	k.cred.Counter = 9
	if r := s.login(s.client(), "ana", k); r.Status != http.StatusSeeOther { // counter 10
		t.Fatalf("login with counter 10: %d %s", r.Status, r.Body)
	}
	for _, presented := range []uint32{10, 3} {
		k.cred.Counter = presented - 1
		c := s.client()
		s.app.Clock.Advance(time.Hour)
		r := s.login(c, "ana", k)
		if r.Status != http.StatusOK || !strings.Contains(r.Body, msgCounter) {
			t.Fatalf("counter %d after 10: want refusal with %q, got %d %s", presented, msgCounter, r.Status, r.Body)
		}
		if verified(c) {
			t.Fatalf("counter %d after 10 verified the session", presented)
		}
	}
	ks := s.keys(u.ID)
	ev := s.events(auth.EventCounterRegressed)
	if len(ev) != 2 || ev[0].UserID != u.ID || ev[0].Device != "webauthn/"+itoa(ks[0].ID) || !strings.Contains(ev[1].Detail, "from 10 to 3") {
		t.Fatalf("want two counter_regressed events naming the key, got %+v", ev)
	}
	if !ks[0].CloneWarning || ks[0].SignCount != 10 {
		t.Errorf("the key should be flagged with its counter kept at 10: %+v", ks[0])
	}
	if tf := s.events(auth.EventTokenFailed); len(tf) != 2 {
		t.Errorf("refusals count as failed attempts: want 2 token_failed events, got %d", len(tf))
	}
	k.cred.Counter = 10
	s.app.Clock.Advance(time.Hour)
	c := s.client()
	if r := s.login(c, "ana", k); r.Status != http.StatusSeeOther {
		t.Fatalf("counter 11 after 10: %d %s", r.Status, r.Body)
	}
	c.Get("/")
	if r := c.Get(webauthn.Base); !strings.Contains(r.Body, "may have been copied") {
		t.Errorf("the keys page should warn about the flagged key: %s", r.Body)
	}
}

// TestOriginAndRPID: an answer made for another origin or RP ID (a
// phishing site relaying the ceremony) is refused, at registration and at
// login.
func TestOriginAndRPID(t *testing.T) {
	cases := []struct {
		name   string
		mutate func(s *site, rp *virtualwebauthn.RelyingParty)
	}{
		{"other origin", func(s *site, rp *virtualwebauthn.RelyingParty) { rp.Origin = "http://evil.example" }},
		{"other port", func(s *site, rp *virtualwebauthn.RelyingParty) { rp.Origin = "http://localhost:1" }},
		{"https instead of http", func(s *site, rp *virtualwebauthn.RelyingParty) { rp.Origin = "https://" + s.host }},
		{"other RP ID", func(s *site, rp *virtualwebauthn.RelyingParty) { rp.ID = "evil.example" }},
		{"parent RP ID", func(s *site, rp *virtualwebauthn.RelyingParty) { rp.ID = "example" }},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			s := newSite(t, nil)
			s.app.User("ana", true, false)
			// Registration.
			bad := s.newKey(virtualwebauthn.AuthenticatorOptions{})
			tc.mutate(s, &bad.rp)
			c := s.client()
			s.toSetupStep(c, "ana")
			r := c.Post(setupURL, "setup_view-current_step", "webauthn", "webauthn-token", bad.attest(t, postJSON(c, beginReg, "{}").Body))
			if r.Location() == completeURL || !strings.Contains(r.Body, msgInvalid) {
				t.Fatalf("registration from the wrong origin/RP ID: want refusal, got %d %q %s", r.Status, r.Location(), r.Body)
			}
			// Login: register properly, then answer for the wrong party.
			good := s.newKey(virtualwebauthn.AuthenticatorOptions{})
			s.app.Clock.Advance(time.Minute)
			r = c.Post(setupURL, "setup_view-current_step", "webauthn", "webauthn-token", good.attest(t, postJSON(c, beginReg, "{}").Body))
			if r.Location() != completeURL {
				t.Fatalf("enrol: %d %s", r.Status, r.Body)
			}
			good.rp = bad.rp
			c2 := s.client()
			s.app.Clock.Advance(time.Minute)
			if r := s.login(c2, "ana", good); r.Status != http.StatusOK || !strings.Contains(r.Body, msgInvalid) {
				t.Fatalf("login answer for the wrong origin/RP ID: want refusal, got %d %s", r.Status, r.Body)
			}
		})
	}
}

// TestPresenceAndVerification: user presence is always required; user
// verification when the setting says so.
func TestPresenceAndVerification(t *testing.T) {
	cases := []struct {
		name     string
		uv       string
		enrolKey virtualwebauthn.AuthenticatorOptions
		enrolOK  bool
		loginKey virtualwebauthn.AuthenticatorOptions
		loginOK  bool
	}{
		{"no presence", "discouraged", virtualwebauthn.AuthenticatorOptions{UserNotPresent: true}, false, virtualwebauthn.AuthenticatorOptions{}, false},
		{"no presence at login", "discouraged", virtualwebauthn.AuthenticatorOptions{}, true, virtualwebauthn.AuthenticatorOptions{UserNotPresent: true}, false},
		{"UV not required", "discouraged", virtualwebauthn.AuthenticatorOptions{UserNotVerified: true}, true, virtualwebauthn.AuthenticatorOptions{UserNotVerified: true}, true},
		{"UV required, not given at setup", "required", virtualwebauthn.AuthenticatorOptions{UserNotVerified: true}, false, virtualwebauthn.AuthenticatorOptions{}, false},
		{"UV required, not given at login", "required", virtualwebauthn.AuthenticatorOptions{}, true, virtualwebauthn.AuthenticatorOptions{UserNotVerified: true}, false},
		{"UV required and given", "required", virtualwebauthn.AuthenticatorOptions{}, true, virtualwebauthn.AuthenticatorOptions{}, true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			s := newSite(t, func(c *webauthn.Config) { c.UserVerification = tc.uv })
			s.app.User("ana", true, false)
			k := s.newKey(tc.enrolKey)
			c := s.client()
			s.toSetupStep(c, "ana")
			r := c.Post(setupURL, "setup_view-current_step", "webauthn", "webauthn-token", k.attest(t, postJSON(c, beginReg, "{}").Body))
			if got := r.Location() == completeURL; got != tc.enrolOK {
				t.Fatalf("enrolment: want ok=%v, got %d %q %s", tc.enrolOK, r.Status, r.Location(), r.Body)
			}
			if !tc.enrolOK {
				return
			}
			k.auth.Options.UserNotPresent, k.auth.Options.UserNotVerified = tc.loginKey.UserNotPresent, tc.loginKey.UserNotVerified
			c2 := s.client()
			r = s.login(c2, "ana", k)
			if got := r.Status == http.StatusSeeOther; got != tc.loginOK {
				t.Fatalf("login: want ok=%v, got %d %s", tc.loginOK, r.Status, r.Body)
			}
		})
	}
}

// TestChallengeSingleUse: a challenge verifies once, in its own session,
// under concurrency; a garbled answer costs the ceremony; an assertion
// that logged in once never logs in again.
func TestChallengeSingleUse(t *testing.T) {
	s := newSite(t, nil)
	s.app.User("ana", true, false)
	k := s.newKey(virtualwebauthn.AuthenticatorOptions{})
	s.enrol(s.client(), "ana", k)

	t.Run("replay after success", func(t *testing.T) {
		c := s.client()
		s.app.Clock.Advance(time.Hour)
		s.passwordToToken(c, "ana")
		a := k.assert(t, postJSON(c, beginLogin, "{}").Body)
		if r := postToken(c, a); r.Status != http.StatusSeeOther {
			t.Fatalf("first use: %d %s", r.Status, r.Body)
		}
		c2 := s.client()
		s.passwordToToken(c2, "ana")
		postJSON(c2, beginLogin, "{}") // a fresh challenge, not the one signed
		if r := postToken(c2, a); r.Status != http.StatusOK || !strings.Contains(r.Body, msgInvalid) {
			t.Fatalf("replayed assertion: want refusal, got %d %s", r.Status, r.Body)
		}
	})

	t.Run("other session", func(t *testing.T) {
		s.app.Clock.Advance(time.Hour)
		victim, attacker := s.client(), s.client()
		s.passwordToToken(victim, "ana")
		s.passwordToToken(attacker, "ana")
		a := k.assert(t, postJSON(victim, beginLogin, "{}").Body)
		postJSON(attacker, beginLogin, "{}")
		if r := postToken(attacker, a); r.Status != http.StatusOK {
			t.Fatalf("an assertion for another session's challenge logged in: want 200 with the token form, got %d", r.Status)
		}
		s.app.Clock.Advance(2 * time.Second) // the attacker's failure throttles the key for 1 s
		if r := postToken(victim, a); r.Status != http.StatusSeeOther {
			t.Fatalf("the session that began the ceremony keeps its challenge: %d %s", r.Status, r.Body)
		}
	})

	t.Run("garbled answer spends the challenge", func(t *testing.T) {
		s.app.Clock.Advance(time.Hour)
		c := s.client()
		s.passwordToToken(c, "ana")
		a := k.assert(t, postJSON(c, beginLogin, "{}").Body)
		var m map[string]any
		if err := json.Unmarshal([]byte(a), &m); err != nil {
			t.Fatal(err)
		}
		resp := m["response"].(map[string]any)
		sig, _ := base64.RawURLEncoding.DecodeString(resp["signature"].(string))
		sig[len(sig)-1] ^= 1
		resp["signature"] = base64.RawURLEncoding.EncodeToString(sig)
		bad, _ := json.Marshal(m)
		if r := postToken(c, string(bad)); r.Status != http.StatusOK || !strings.Contains(r.Body, msgInvalid) {
			t.Fatalf("bad signature: want refusal, got %d %s", r.Status, r.Body)
		}
		s.app.Clock.Advance(2 * time.Second)
		if r := postToken(c, a); r.Status != http.StatusOK {
			t.Fatalf("the challenge was used by the failed attempt, yet the good answer logged in: want 200 with the token form, got %d", r.Status)
		}
	})

	t.Run("concurrent", func(t *testing.T) {
		s.app.Clock.Advance(time.Hour)
		c := s.client()
		s.passwordToToken(c, "ana")
		a := k.assert(t, postJSON(c, beginLogin, "{}").Body)
		uses := s.keys(1)[0].Uses
		// n copies of the same browser session post the same answer at once.
		const n = 8
		var clients []*authtest.Client
		for range n {
			cc := s.client()
			cc.SetSessionCookie(c.SessionCookie())
			clients = append(clients, cc)
		}
		var wg sync.WaitGroup
		statuses := make(chan int, n)
		for _, cc := range clients {
			wg.Go(func() { statuses <- postToken(cc, a).Status })
		}
		wg.Wait()
		close(statuses)
		wins := 0
		for st := range statuses {
			if st == http.StatusSeeOther {
				wins++
			}
		}
		if wins != 1 {
			t.Fatalf("%d concurrent posts of one assertion: want exactly 1 login, got %d", n, wins)
		}
		if got := s.keys(1)[0].Uses; got != uses+1 {
			t.Fatalf("the key verified %d times, want once", got-uses)
		}
	})
}

// TestChallengeExpires: a ceremony older than its timeout (the library's
// 120 s without user verification) is refused, by the service clock.
func TestChallengeExpires(t *testing.T) {
	s := newSite(t, nil)
	s.app.User("ana", true, false)
	k := s.newKey(virtualwebauthn.AuthenticatorOptions{})

	// Registration.
	c := s.client()
	s.toSetupStep(c, "ana")
	o := postJSON(c, beginReg, "{}")
	s.app.Clock.Advance(121 * time.Second)
	r := c.Post(setupURL, "setup_view-current_step", "webauthn", "webauthn-token", k.attest(t, o.Body))
	if r.Location() == completeURL || !strings.Contains(r.Body, msgInvalid) {
		t.Fatalf("expired registration challenge: want refusal, got %d %q %s", r.Status, r.Location(), r.Body)
	}
	s.app.Clock.Advance(2 * time.Second)
	r = c.Post(setupURL, "setup_view-current_step", "webauthn", "webauthn-token", k.attest(t, postJSON(c, beginReg, "{}").Body))
	if r.Location() != completeURL {
		t.Fatalf("fresh registration challenge: %d %s", r.Status, r.Body)
	}

	// Login: just inside the timeout passes, just after fails.
	for _, tc := range []struct {
		wait time.Duration
		ok   bool
	}{{121 * time.Second, false}, {119 * time.Second, true}} {
		s.app.Clock.Advance(time.Hour)
		c := s.client()
		s.passwordToToken(c, "ana")
		o := postJSON(c, beginLogin, "{}")
		s.app.Clock.Advance(tc.wait)
		r := postToken(c, k.assert(t, o.Body))
		if got := r.Status == http.StatusSeeOther; got != tc.ok {
			t.Errorf("login %v after begin: want ok=%v, got %d %s", tc.wait, tc.ok, r.Status, r.Body)
		}
	}
	var n int64
	s.app.DB.Table("otp_webauthn_challenge").Count(&n)
	if n != 0 {
		t.Errorf("consumed challenges must be gone, %d rows left", n)
	}
}

// TestMalformedInput: broken ceremony JSON is a 4xx (or the wizard's
// error message), never a 500.
func TestMalformedInput(t *testing.T) {
	s := newSite(t, func(c *webauthn.Config) { c.PasskeyLogin = true })
	s.app.User("ana", true, false)
	k := s.newKey(virtualwebauthn.AuthenticatorOptions{})
	enrolling := s.client()
	s.toSetupStep(enrolling, "ana")

	cases := []struct {
		name, path, ctype, body string
		want                    int
	}{
		{"truncated JSON", beginReg, "application/json", "{", http.StatusBadRequest},
		{"array", beginReg, "application/json", "[]", http.StatusBadRequest},
		{"two objects", beginReg, "application/json", "{} {}", http.StatusBadRequest},
		{"form content type", beginReg, "application/x-www-form-urlencoded", "a=b", http.StatusUnsupportedMediaType},
		{"text content type", beginReg, "text/plain", "{}", http.StatusUnsupportedMediaType},
		{"invalid UTF-8", beginReg, "application/json", "{\"a\":\"\xff\"}  x", http.StatusBadRequest},
		{"huge body", beginReg, "application/json", "{\"a\":\"" + strings.Repeat("x", 2<<20) + "\"}", http.StatusRequestEntityTooLarge},
		{"passkey finish: truncated", passkeyEnd, "application/json", "{\"credential\":", http.StatusBadRequest},
		{"passkey finish: no credential", passkeyEnd, "application/json", "{}", http.StatusBadRequest},
		{"passkey finish: string credential", passkeyEnd, "application/json", `{"credential":"x"}`, http.StatusBadRequest},
		{"passkey finish: empty credential", passkeyEnd, "application/json", `{"credential":{}}`, http.StatusBadRequest},
		{"passkey finish: bad base64", passkeyEnd, "application/json", `{"credential":{"id":"!!","rawId":"!!","type":"public-key","response":{"clientDataJSON":"!!","authenticatorData":"!!","signature":"!!"}}}`, http.StatusBadRequest},
		{"begin-login without a pending login", beginLogin, "application/json", "{}", http.StatusForbidden},
		{"begin-registration without a user", beginReg, "application/json", "{}", http.StatusForbidden},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			c := enrolling
			if tc.want == http.StatusForbidden {
				c = s.client() // anonymous
			}
			r := c.Do(http.MethodPost, tc.path, strings.NewReader(tc.body), "Content-Type", tc.ctype)
			if r.Status != tc.want {
				t.Fatalf("want %d, got %d %s", tc.want, r.Status, r.Body)
			}
			if tc.want != http.StatusRequestEntityTooLarge && !strings.Contains(r.Body, `"error"`) {
				t.Errorf("the answer should carry a translated error: %s", r.Body)
			}
		})
	}

	// The wizard step and the token step take garbage as a wrong token.
	for _, tok := range []string{"{", "null", `{"id":"x"}`, "\u00e9\u00e9", strings.Repeat("[", 10000)} {
		r := enrolling.Post(setupURL, "setup_view-current_step", "webauthn", "webauthn-token", tok)
		if r.Status != http.StatusOK || !strings.Contains(r.Body, msgInvalid) {
			t.Errorf("setup token %.20q: want 200 with the message, got %d %s", tok, r.Status, r.Body)
		}
		s.app.Clock.Advance(time.Minute)
	}
	r := enrolling.Post(setupURL, "setup_view-current_step", "webauthn", "webauthn-token", k.attest(t, postJSON(enrolling, beginReg, "{}").Body))
	if r.Location() != completeURL {
		t.Fatalf("enrol after garbage: %d %s", r.Status, r.Body)
	}
	c := s.client()
	s.passwordToToken(c, "ana")
	postJSON(c, beginLogin, "{}")
	for _, tok := range []string{"{", "[]", `{"type":"public-key"}`} {
		s.app.Clock.Advance(time.Minute)
		if r := postToken(c, tok); r.Status != http.StatusOK || !strings.Contains(r.Body, msgInvalid) {
			t.Errorf("token %q: want 200 with the message, got %d %s", tok, r.Status, r.Body)
		}
	}
}

// TestThrottling: failures back off the user's keys through the
// Service's throttle; a throttled attempt fails even with a good answer.
func TestThrottling(t *testing.T) {
	s := newSite(t, func(c *webauthn.Config) { c.ThrottleFactor = 10 * time.Second })
	s.app.User("ana", true, false)
	k := s.newKey(virtualwebauthn.AuthenticatorOptions{})
	s.enrol(s.client(), "ana", k)
	s.app.Clock.Advance(time.Hour)

	c := s.client()
	s.passwordToToken(c, "ana")
	postJSON(c, beginLogin, "{}")
	if r := postToken(c, "{}"); !strings.Contains(r.Body, msgInvalid) {
		t.Fatalf("first failure: %d %s", r.Status, r.Body)
	}
	good := k.assert(t, postJSON(c, beginLogin, "{}").Body)
	if r := postToken(c, good); r.Status != http.StatusOK || !strings.Contains(r.Body, msgThrottled) {
		t.Fatalf("within the 10 s back-off a good answer must be refused as throttled: %d %s", r.Status, r.Body)
	}
	if ev := s.events(auth.EventThrottled); len(ev) == 0 {
		t.Error("a throttled attempt should be recorded")
	}
	s.app.Clock.Advance(11 * time.Second)
	if r := postToken(c, good); r.Status != http.StatusSeeOther {
		t.Fatalf("after the back-off the good answer (its challenge untouched) logs in: %d %s", r.Status, r.Body)
	}
}

func itoa(n uint) string {
	b, _ := json.Marshal(n)
	return string(b)
}

// TestOtherDevice: with an authenticator app as the primary method, the
// security key is offered among the other devices of the token step, and
// works from there; the key can then be removed (the app remains). The
// token step says a key needs JavaScript when it is off.
func TestOtherDevice(t *testing.T) {
	s := newSite(t, nil)
	u := s.app.User("ana", true, false)
	c := s.client()
	if r := c.Password("ana", authtest.Password); r.Location() != setupURL {
		t.Fatalf("password: %d %q", r.Status, r.Location())
	}
	c.Post(setupURL, "setup_view-current_step", "welcome")
	r := c.Post(setupURL, "setup_view-current_step", "method", "method-method", "generator")
	secret := authtest.Secret(r.Body)
	if secret == "" {
		t.Fatalf("generator step: %s", r.Body)
	}
	if r := c.Post(setupURL, "setup_view-current_step", "generator", "generator-token", s.app.Code(secret, 0)); r.Location() != completeURL {
		t.Fatalf("TOTP enrolment: %d %s", r.Status, r.Body)
	}
	k := s.newKey(virtualwebauthn.AuthenticatorOptions{})
	if r := c.Post(webauthn.Base+"add/", "webauthn-token", k.attest(t, postJSON(c, beginReg, "{}").Body)); r.Status != http.StatusSeeOther {
		t.Fatalf("adding a key next to the app: %d %s", r.Status, r.Body)
	}
	ks := s.keys(u.ID)

	c2 := s.client()
	s.app.Clock.Advance(time.Minute)
	r = c2.Password("ana", authtest.Password)
	choice := `name="challenge_device" value="webauthn/` + itoa(ks[0].ID) + `"`
	if !strings.Contains(r.Body, `name="token-otp_token"`) || strings.Contains(r.Body, `data-webauthn="login"`) || !strings.Contains(r.Body, choice) ||
		!strings.Contains(r.Body, "Use a security key or passkey") {
		t.Fatalf("token step with the app first: want the code field and the key among the other devices: %s", r.Body)
	}
	r = c2.Post(loginURL, "login_view-current_step", "token", "challenge_device", "webauthn/"+itoa(ks[0].ID))
	if !strings.Contains(r.Body, `data-webauthn="login"`) || !strings.Contains(r.Body, "<noscript>") ||
		!strings.Contains(r.Body, "A security key or passkey needs JavaScript") || !strings.Contains(r.Body, `value="generator/`) {
		t.Fatalf("choosing the key: want its ceremony, the no-JavaScript note and the app among the other devices: %s", r.Body)
	}
	if r := postToken(c2, k.assert(t, postJSON(c2, beginLogin, "{}").Body)); r.Status != http.StatusSeeOther {
		t.Fatalf("login with the key chosen among the other devices: %d %s", r.Status, r.Body)
	}
	if r := c2.Post(webauthn.Base + "remove/" + itoa(ks[0].ID) + "/"); r.Status != http.StatusSeeOther {
		t.Fatalf("removing the only key next to the app: want 303, got %d %s", r.Status, r.Body)
	}
	if d, err := s.app.Service.DefaultDevice(t.Context(), u.ID); err != nil || d == nil || d.MethodCode() != "generator" {
		t.Fatalf("the app stays the primary device: %v %v", d, err)
	}
}
