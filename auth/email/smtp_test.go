package email_test

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"errors"
	"io"
	"log"
	"math/big"
	"mime"
	"mime/multipart"
	"mime/quotedprintable"
	"net"
	"net/mail"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/emersion/go-sasl"
	"github.com/emersion/go-smtp"
)

// sink is a small SMTP server on 127.0.0.1 (github.com/emersion/go-smtp)
// that the real go-mail client of the email method talks to. It keeps
// what it received; it can require STARTTLS and a login, speak implicit
// TLS, or refuse every message.
type sink struct {
	t    testing.TB
	srv  *smtp.Server
	Host string
	Port int

	user, password string // AUTH PLAIN credentials it accepts; "": no AUTH

	mu     sync.Mutex
	msgs   []received
	logins []string // usernames that logged in, with whether the connection was TLS
	reject bool     // answer 554 to DATA
}

// received is one delivered message.
type received struct {
	From    string
	To      []string
	Raw     []byte
	Subject string
	Text    string
	HTML    string
	Header  mail.Header
	TLS     bool // the connection was encrypted
}

type sinkOpts struct {
	startTLS bool // offer STARTTLS
	implicit bool // TLS from the first byte
	user     string
	password string
}

// newSink starts a sink; it stops when the test ends. tlsConf is the
// server side (nil when the sink has no TLS); roots trust its certificate.
func newSink(t testing.TB, o sinkOpts) (s *sink, roots *x509.CertPool) {
	t.Helper()
	s = &sink{t: t, user: o.user, password: o.password}
	s.srv = smtp.NewServer(s)
	s.srv.Domain = "localhost"
	s.srv.ErrorLog = log.New(io.Discard, "", 0)
	s.srv.ReadTimeout, s.srv.WriteTimeout = 10*time.Second, 10*time.Second
	var ln net.Listener
	var err error
	ln, err = net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	if o.startTLS || o.implicit {
		cert, pool := selfSigned(t)
		conf := &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12}
		roots = pool
		if o.implicit {
			ln = tls.NewListener(ln, conf)
		} else {
			s.srv.TLSConfig = conf
		}
	}
	addr := ln.Addr().(*net.TCPAddr)
	s.Host, s.Port = "127.0.0.1", addr.Port
	go func() { _ = s.srv.Serve(ln) }()
	t.Cleanup(func() { _ = s.srv.Close() })
	return s, roots
}

// NewSession is go-smtp's Backend.
func (s *sink) NewSession(c *smtp.Conn) (smtp.Session, error) {
	_, isTLS := c.TLSConnectionState()
	return &sinkSession{s: s, c: c, implicitTLS: isTLS}, nil
}

type sinkSession struct {
	s           *sink
	c           *smtp.Conn
	implicitTLS bool
	from        string
	to          []string
	authed      bool
}

func (ss *sinkSession) isTLS() bool {
	_, ok := ss.c.TLSConnectionState()
	return ok || ss.implicitTLS
}

func (ss *sinkSession) AuthMechanisms() []string {
	if ss.s.user == "" {
		return nil
	}
	return []string{sasl.Plain}
}

func (ss *sinkSession) Auth(mech string) (sasl.Server, error) {
	return sasl.NewPlainServer(func(identity, username, password string) error {
		ss.s.mu.Lock()
		ss.s.logins = append(ss.s.logins, username)
		ss.s.mu.Unlock()
		if username != ss.s.user || password != ss.s.password {
			return smtp.ErrAuthFailed
		}
		ss.authed = true
		return nil
	}), nil
}

func (ss *sinkSession) Mail(from string, _ *smtp.MailOptions) error {
	if ss.s.user != "" && !ss.authed {
		return smtp.ErrAuthRequired
	}
	ss.from = from
	return nil
}

func (ss *sinkSession) Rcpt(to string, _ *smtp.RcptOptions) error {
	ss.to = append(ss.to, to)
	return nil
}

func (ss *sinkSession) Data(r io.Reader) error {
	raw, err := io.ReadAll(r)
	if err != nil {
		return err
	}
	ss.s.mu.Lock()
	defer ss.s.mu.Unlock()
	if ss.s.reject {
		return &smtp.SMTPError{Code: 554, EnhancedCode: smtp.EnhancedCode{5, 7, 1}, Message: "rejected by the test"}
	}
	m := parseMail(ss.s.t, raw)
	m.From, m.To, m.TLS = ss.from, append([]string(nil), ss.to...), ss.isTLS()
	ss.s.msgs = append(ss.s.msgs, m)
	return nil
}

func (ss *sinkSession) Reset()        { ss.from, ss.to = "", nil }
func (ss *sinkSession) Logout() error { return nil }

// Messages returns a copy of what arrived.
func (s *sink) Messages() []received {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]received(nil), s.msgs...)
}

// Count is how many messages arrived.
func (s *sink) Count() int { return len(s.Messages()) }

// Logins are the usernames that tried AUTH.
func (s *sink) Logins() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]string(nil), s.logins...)
}

func (s *sink) setReject(v bool) {
	s.mu.Lock()
	s.reject = v
	s.mu.Unlock()
}

var codeRE = regexp.MustCompile(`(?m)^\s*(\d{6})\s*$`)

// Code is the code in the last message to addr; the test fails when there
// is none.
func (s *sink) Code(addr string) string {
	s.t.Helper()
	msgs := s.Messages()
	for i := len(msgs) - 1; i >= 0; i-- {
		for _, to := range msgs[i].To {
			if to == addr {
				m := codeRE.FindStringSubmatch(msgs[i].Text)
				if m == nil {
					s.t.Fatalf("message to %s has no code on a line of its own:\n%s", addr, msgs[i].Text)
				}
				return m[1]
			}
		}
	}
	s.t.Fatalf("no message to %s (have %d messages)", addr, len(msgs))
	return ""
}

// parseMail splits a message into subject, text and HTML parts.
func parseMail(t testing.TB, raw []byte) received {
	msg, err := mail.ReadMessage(bytes.NewReader(raw))
	if err != nil {
		t.Errorf("sink: unparsable message: %v", err)
		return received{Raw: raw}
	}
	out := received{Raw: raw, Header: msg.Header}
	dec := new(mime.WordDecoder)
	out.Subject, err = dec.DecodeHeader(msg.Header.Get("Subject"))
	if err != nil {
		t.Errorf("sink: subject: %v", err)
	}
	mt, params, err := mime.ParseMediaType(msg.Header.Get("Content-Type"))
	if err != nil {
		t.Errorf("sink: content type: %v", err)
		return out
	}
	if !strings.HasPrefix(mt, "multipart/") {
		out.Text = decodePart(t, msg.Header.Get("Content-Transfer-Encoding"), msg.Body)
		return out
	}
	mr := multipart.NewReader(msg.Body, params["boundary"])
	for {
		p, err := mr.NextPart()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Errorf("sink: part: %v", err)
			break
		}
		body := decodePart(t, p.Header.Get("Content-Transfer-Encoding"), p)
		switch ct, _, _ := mime.ParseMediaType(p.Header.Get("Content-Type")); ct {
		case "text/plain":
			out.Text = body
		case "text/html":
			out.HTML = body
		}
	}
	return out
}

func decodePart(t testing.TB, enc string, r io.Reader) string {
	if strings.EqualFold(enc, "quoted-printable") {
		r = quotedprintable.NewReader(r)
	}
	b, err := io.ReadAll(r)
	if err != nil {
		t.Errorf("sink: body: %v", err)
	}
	return strings.ReplaceAll(string(b), "\r\n", "\n")
}

// selfSigned makes a certificate for 127.0.0.1 and a pool that trusts it.
func selfSigned(t testing.TB) (tls.Certificate, *x509.CertPool) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "test smtp"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		IPAddresses: []net.IP{net.ParseIP("127.0.0.1")}, KeyUsage: x509.KeyUsageDigitalSignature,
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}, BasicConstraintsValid: true, IsCA: true,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	leaf, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	pool := x509.NewCertPool()
	pool.AddCert(leaf)
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key, Leaf: leaf}, pool
}
