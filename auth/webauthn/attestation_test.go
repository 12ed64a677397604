package webauthn_test

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"math/big"
	"strings"
	"testing"
	"time"

	"github.com/descope/virtualwebauthn"
	"github.com/fxamacker/cbor/v2"

	"github.com/gatehouse/gatehouse/auth/webauthn"
)

var (
	certFrom = time.Date(2020, 1, 1, 0, 0, 0, 0, time.UTC)
	certTo   = time.Date(2099, 1, 1, 0, 0, 0, 0, time.UTC)
)

// newCA makes a self-signed root: PEM, certificate, key.
func newCA(t *testing.T, name string) ([]byte, *x509.Certificate, *ecdsa.PrivateKey) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: name, Organization: []string{"Test"}},
		NotBefore: certFrom, NotAfter: certTo, IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign}
	der, err := x509.CreateCertificate(rand.Reader, tpl, tpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	cert, _ := x509.ParseCertificate(der)
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), cert, key
}

// newAttestationCert makes an attestation certificate as §8.2.1 wants it
// (C, O, OU "Authenticator Attestation", CN; not a CA), issued by ca.
func newAttestationCert(t *testing.T, ca *x509.Certificate, caKey *ecdsa.PrivateKey) ([]byte, *ecdsa.PrivateKey) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tpl := &x509.Certificate{SerialNumber: big.NewInt(2), NotBefore: certFrom, NotAfter: certTo, BasicConstraintsValid: true,
		Subject: pkix.Name{Country: []string{"DE"}, Organization: []string{"Test Keys"}, OrganizationalUnit: []string{"Authenticator Attestation"}, CommonName: "Test Key 1"}}
	der, err := x509.CreateCertificate(rand.Reader, tpl, ca, &key.PublicKey, caKey)
	if err != nil {
		t.Fatal(err)
	}
	return der, key
}

// withX5C turns the software key's self attestation into a basic one: the
// statement is signed by the attestation key and carries its certificate.
func withX5C(t *testing.T, attestation string, certDER []byte, key *ecdsa.PrivateKey) string {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal([]byte(attestation), &m); err != nil {
		t.Fatal(err)
	}
	resp := m["response"].(map[string]any)
	raw, _ := base64.RawURLEncoding.DecodeString(resp["attestationObject"].(string))
	cdj, _ := base64.RawURLEncoding.DecodeString(resp["clientDataJSON"].(string))
	var ao struct {
		Fmt      string         `cbor:"fmt"`
		AttStmt  map[string]any `cbor:"attStmt"`
		AuthData []byte         `cbor:"authData"`
	}
	if err := cbor.Unmarshal(raw, &ao); err != nil {
		t.Fatal(err)
	}
	cdh := sha256.Sum256(cdj)
	digest := sha256.Sum256(append(append([]byte{}, ao.AuthData...), cdh[:]...))
	sig, err := ecdsa.SignASN1(rand.Reader, key, digest[:])
	if err != nil {
		t.Fatal(err)
	}
	ao.AttStmt = map[string]any{"alg": -7, "sig": sig, "x5c": []any{certDER}}
	out, err := cbor.Marshal(ao)
	if err != nil {
		t.Fatal(err)
	}
	resp["attestationObject"] = base64.RawURLEncoding.EncodeToString(out)
	b, _ := json.Marshal(m)
	return string(b)
}

// TestAttestationRoots: the seed's extra root certificates per format.
// With attestation requested and roots configured for "packed", a packed
// statement must chain to one of them; without roots (or with attestation
// "none") any verified statement passes, as in the seed.
func TestAttestationRoots(t *testing.T) {
	rootPEM, root, rootKey := newCA(t, "Trusted Root")
	_, other, otherKey := newCA(t, "Other Root")
	trustedDER, trustedKey := newAttestationCert(t, root, rootKey)
	strangerDER, strangerKey := newAttestationCert(t, other, otherKey)

	self := func(t *testing.T, att string) string { return att }
	basic := func(der []byte, key *ecdsa.PrivateKey) func(*testing.T, string) string {
		return func(t *testing.T, att string) string { return withX5C(t, att, der, key) }
	}
	cases := []struct {
		name        string
		attestation string
		roots       bool
		statement   func(*testing.T, string) string
		ok          bool
	}{
		{"none: roots ignored", "none", true, self, true},
		{"direct without roots: self attestation passes", "direct", false, self, true},
		{"direct without roots: any chain passes", "direct", false, basic(strangerDER, strangerKey), true},
		{"direct with roots: self attestation refused", "direct", true, self, false},
		{"direct with roots: chain to the root passes", "direct", true, basic(trustedDER, trustedKey), true},
		{"indirect with roots: chain to another root refused", "indirect", true, basic(strangerDER, strangerKey), false},
		{"direct with roots: statement signed by the wrong key refused", "direct", true, basic(trustedDER, strangerKey), false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			s := newSite(t, func(c *webauthn.Config) {
				c.Attestation = tc.attestation
				if tc.roots {
					c.RootCerts = map[string][][]byte{"packed": {rootPEM}}
				}
			})
			s.app.User("ana", true, false)
			k := s.newKey(virtualwebauthn.AuthenticatorOptions{})
			c := s.client()
			s.toSetupStep(c, "ana")
			att := tc.statement(t, k.attest(t, postJSON(c, beginReg, "{}").Body))
			r := c.Post(setupURL, "setup_view-current_step", "webauthn", "webauthn-token", att)
			if got := r.Location() == completeURL; got != tc.ok {
				t.Fatalf("want ok=%v, got %d %q %s", tc.ok, r.Status, r.Location(), r.Body)
			}
			if !tc.ok && !strings.Contains(r.Body, msgInvalid) {
				t.Errorf("a refused attestation should say so: %s", r.Body)
			}
		})
	}
}
