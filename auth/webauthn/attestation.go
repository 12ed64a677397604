package webauthn

import (
	"crypto/x509"
	"fmt"
	"time"

	"github.com/go-webauthn/webauthn/protocol"
)

// checkRoots applies Config.RootCerts, the seed's
// TWO_FACTOR_WEBAUTHN_PEM_ROOT_CERTS_BYTES_BY_FMT: when attestation is
// requested and the statement's format has configured roots, its x5c
// chain must lead to one of them. go-webauthn has already verified the
// statement's signature with the leaf certificate; trust in that
// certificate is what is checked here. A format without configured roots
// passes, as in the seed.
func (m *Method) checkRoots(p *protocol.ParsedCredentialCreationData, now time.Time) error {
	if m.cfg.Attestation == "none" {
		return nil
	}
	att := p.Response.AttestationObject
	roots := m.roots[att.Format]
	if roots == nil {
		return nil
	}
	raw, _ := att.AttStatement["x5c"].([]any)
	if len(raw) == 0 {
		return fmt.Errorf("format %q has configured roots but the statement carries no certificate (self attestation)", att.Format)
	}
	certs := make([]*x509.Certificate, 0, len(raw))
	for i, r := range raw {
		der, ok := r.([]byte)
		if !ok {
			return fmt.Errorf("x5c[%d] is not a certificate", i)
		}
		c, err := x509.ParseCertificate(der)
		if err != nil {
			return fmt.Errorf("x5c[%d]: %v", i, err)
		}
		certs = append(certs, c)
	}
	inter := x509.NewCertPool()
	for _, c := range certs[1:] {
		inter.AddCert(c)
	}
	if _, err := certs[0].Verify(x509.VerifyOptions{Roots: roots, Intermediates: inter, CurrentTime: now,
		KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageAny}}); err != nil {
		return fmt.Errorf("format %q: the certificate chain does not lead to a configured root: %v", att.Format, err)
	}
	return nil
}
