package webauthn_test

import (
	"crypto/ecdsa"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/descope/virtualwebauthn"

	"github.com/gatehouse/gatehouse/auth"
	"github.com/gatehouse/gatehouse/auth/authtest"
	"github.com/gatehouse/gatehouse/auth/webauthn"
	"github.com/gatehouse/gatehouse/internal/testenv"
)

const (
	setupURL     = "/account/two_factor/setup/"
	completeURL  = "/account/two_factor/setup/complete/"
	loginURL     = "/account/login/"
	beginReg     = webauthn.Base + "begin-registration/"
	beginLogin   = webauthn.Base + "begin-login/"
	passkeyBegin = webauthn.Base + "passkey/begin/"
	passkeyEnd   = webauthn.Base + "passkey/finish/"
	rpName       = "Gatehouse test"
)

// site is a real Gatehouse (authtest: SQLite, fake clock, the real engine
// behind httptest) with the WebAuthn method, reached as localhost:PORT.
type site struct {
	t      *testing.T
	app    *authtest.App
	m      *webauthn.Method
	host   string // localhost:PORT
	origin string // http://localhost:PORT
}

func newSite(t *testing.T, adjust func(*webauthn.Config)) *site {
	t.Helper()
	return newSiteOn(t, testenv.DB{}, adjust)
}

// newSiteOn is newSite on a given database (SQLite when zero).
func newSiteOn(t *testing.T, db testenv.DB, adjust func(*webauthn.Config), authConfig ...func(*auth.Config)) *site {
	t.Helper()
	var m *webauthn.Method
	var ac func(*auth.Config)
	if len(authConfig) > 0 {
		ac = authConfig[0]
	}
	app := authtest.New(t, authtest.Options{DB: db, Config: ac, Setup: func(s *auth.Service) error {
		cfg := webauthn.Defaults()
		cfg.RPName = rpName
		if adjust != nil {
			adjust(&cfg)
		}
		var err error
		m, err = webauthn.New(s, cfg)
		return err
	}})
	u, err := url.Parse(app.Server.URL)
	if err != nil {
		t.Fatal(err)
	}
	host := "localhost:" + u.Port()
	return &site{t: t, app: app, m: m, host: host, origin: "http://" + host}
}

// hostTransport sends every request with another Host header: the test
// server listens on 127.0.0.1, but an IP address is no WebAuthn RP ID.
type hostTransport struct {
	host string
	base http.RoundTripper
}

func (h hostTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	r = r.Clone(r.Context())
	r.Host = h.host
	return h.base.RoundTrip(r)
}

// client is a browser-like client that reaches the site as host.
func (s *site) clientAs(host string) *authtest.Client {
	c := s.app.Client()
	c.HTTP.Transport = hostTransport{host: host, base: s.app.Server.Client().Transport}
	return c
}

func (s *site) client() *authtest.Client { return s.clientAs(s.host) }

func postJSON(c *authtest.Client, path, body string) *authtest.Response {
	return c.Do(http.MethodPost, path, strings.NewReader(body), "Content-Type", "application/json", "Accept", "application/json")
}

// key is a software authenticator holding one credential.
type key struct {
	auth virtualwebauthn.Authenticator
	cred virtualwebauthn.Credential
	rp   virtualwebauthn.RelyingParty
}

func (s *site) newKey(o virtualwebauthn.AuthenticatorOptions) *key {
	return &key{
		auth: virtualwebauthn.NewAuthenticatorWithOptions(o),
		cred: newCredential(s.t),
		rp:   virtualwebauthn.RelyingParty{Name: rpName, ID: "localhost", Origin: s.origin},
	}
}

// newCredential is a P-256 credential whose coordinates both take 32
// bytes: virtualwebauthn writes big.Int.Bytes() into the COSE key, which
// drops leading zero bytes (about 1 key in 64), and go-webauthn rightly
// refuses such a key.
func newCredential(t *testing.T) virtualwebauthn.Credential {
	for {
		c := virtualwebauthn.NewCredential(virtualwebauthn.KeyTypeEC2)
		k, err := x509.ParsePKCS8PrivateKey(c.Key.Data)
		if err != nil {
			t.Fatal(err)
		}
		pk := k.(*ecdsa.PrivateKey)
		if len(pk.X.Bytes()) == 32 && len(pk.Y.Bytes()) == 32 {
			return c
		}
	}
}

// attest answers creation options (the begin-registration JSON) like
// navigator.credentials.create() and remembers the user handle, as a
// discoverable credential does.
func (k *key) attest(t *testing.T, options string) string {
	t.Helper()
	o, err := virtualwebauthn.ParseAttestationOptions(options)
	if err != nil {
		t.Fatalf("creation options %q: %v", options, err)
	}
	k.auth.Options.UserHandle = []byte(o.UserID)
	return virtualwebauthn.CreateAttestationResponse(k.rp, k.auth, k.cred, *o)
}

// assert answers request options like navigator.credentials.get(), with
// the sign counter one up.
func (k *key) assert(t *testing.T, options string) string {
	t.Helper()
	o, err := virtualwebauthn.ParseAssertionOptions(options)
	if err != nil {
		t.Fatalf("request options %q: %v", options, err)
	}
	k.cred.Counter++
	return virtualwebauthn.CreateAssertionResponse(k.rp, k.auth, k.cred, *o)
}

func (k *key) id() string { return base64.RawURLEncoding.EncodeToString(k.cred.ID) }

// options is the part of the begin answers the tests look at.
type options struct {
	PublicKey struct {
		Challenge string `json:"challenge"`
		Timeout   int    `json:"timeout"`
		RP        struct {
			ID   string `json:"id"`
			Name string `json:"name"`
		} `json:"rp"`
		RPID string `json:"rpId"`
		User struct {
			ID   string `json:"id"`
			Name string `json:"name"`
		} `json:"user"`
		Selection struct {
			Attachment       string `json:"authenticatorAttachment"`
			ResidentKey      string `json:"residentKey"`
			UserVerification string `json:"userVerification"`
		} `json:"authenticatorSelection"`
		UserVerification string `json:"userVerification"`
		Attestation      string `json:"attestation"`
		Exclude          []struct {
			ID         string   `json:"id"`
			Transports []string `json:"transports"`
		} `json:"excludeCredentials"`
		Allow []struct {
			ID         string   `json:"id"`
			Transports []string `json:"transports"`
		} `json:"allowCredentials"`
	} `json:"publicKey"`
}

func parseOptions(t *testing.T, r *authtest.Response) options {
	t.Helper()
	if r.Status != http.StatusOK {
		t.Fatalf("begin: want 200, got %d %s", r.Status, r.Body)
	}
	var o options
	if err := json.Unmarshal([]byte(r.Body), &o); err != nil {
		t.Fatalf("begin answer is not JSON: %v: %s", err, r.Body)
	}
	return o
}

// toSetupStep logs in with the password (no device yet: forced
// enrolment) and walks the wizard to the webauthn step.
func (s *site) toSetupStep(c *authtest.Client, username string) {
	t := s.t
	t.Helper()
	if r := c.Password(username, authtest.Password); r.Location() != setupURL {
		t.Fatalf("password step of a user without devices: want forced enrolment, got %d %q", r.Status, r.Location())
	}
	r := c.Post(setupURL, "setup_view-current_step", "welcome")
	if !strings.Contains(r.Body, `value="webauthn"`) {
		t.Fatalf("setup method step does not offer webauthn: %d %s", r.Status, r.Body)
	}
	r = c.Post(setupURL, "setup_view-current_step", "method", "method-method", "webauthn")
	if !strings.Contains(r.Body, `data-webauthn="register"`) || !strings.Contains(r.Body, `name="webauthn-token"`) {
		t.Fatalf("setup webauthn step lacks the ceremony markup: %d %s", r.Status, r.Body)
	}
}

// enrol registers k in forced enrolment; the client ends verified.
func (s *site) enrol(c *authtest.Client, username string, k *key) {
	t := s.t
	t.Helper()
	s.toSetupStep(c, username)
	att := k.attest(t, postJSON(c, beginReg, "{}").Body)
	r := c.Post(setupURL, "setup_view-current_step", "webauthn", "webauthn-token", att)
	if r.Location() != completeURL {
		t.Fatalf("confirming the key: want %s, got %d %q %s", completeURL, r.Status, r.Location(), r.Body)
	}
}

// passwordToToken runs the password step of an enrolled user and checks
// the token step offers the security key.
func (s *site) passwordToToken(c *authtest.Client, username string) {
	t := s.t
	t.Helper()
	r := c.Password(username, authtest.Password)
	if !strings.Contains(r.Body, `data-webauthn="login"`) || !strings.Contains(r.Body, `name="token-otp_token"`) {
		t.Fatalf("password step: want the security-key token step, got %d %s", r.Status, r.Body)
	}
}

// postToken posts an assertion as the token step's token-otp_token.
func postToken(c *authtest.Client, token string) *authtest.Response {
	return c.Post(loginURL, "login_view-current_step", "token", "token-otp_token", token)
}

// login runs password, begin-login and the token step with k.
func (s *site) login(c *authtest.Client, username string, k *key) *authtest.Response {
	s.t.Helper()
	s.passwordToToken(c, username)
	return postToken(c, k.assert(s.t, postJSON(c, beginLogin, "{}").Body))
}

func (s *site) events(kind string) []auth.Event {
	s.t.Helper()
	var out []auth.Event
	if err := s.app.DB.Where("kind = ?", kind).Order("id").Find(&out).Error; err != nil {
		s.t.Fatal(err)
	}
	return out
}

func (s *site) keys(userID uint) []webauthn.Credential {
	s.t.Helper()
	var out []webauthn.Credential
	if err := s.app.DB.Where("user_id = ?", userID).Order("id").Find(&out).Error; err != nil {
		s.t.Fatal(err)
	}
	return out
}

// verified reports whether the client's session passed both factors: the
// profile answers 200, or 303 to the login page. Anything else (an error
// page) is neither, and panics, so no negative test can pass on a 500.
func verified(c *authtest.Client) bool {
	r := c.Get("/account/two_factor/")
	switch {
	case r.Status == http.StatusOK:
		return true
	case r.Status == http.StatusSeeOther && r.Location() == authtest.ToLogin("/account/two_factor/"):
		return false
	}
	panic(fmt.Sprintf("profile answered %d %q: neither verified nor sent to the login page", r.Status, r.Location()))
}
