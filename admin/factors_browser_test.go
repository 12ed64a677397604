package admin_test

import (
	"bytes"
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"log"
	"log/slog"
	"mime"
	"mime/multipart"
	"mime/quotedprintable"
	"net"
	"net/mail"
	"os"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"
	"github.com/emersion/go-smtp"
	"github.com/gin-gonic/gin"

	"github.com/gatehouse/gatehouse/admin"
	"github.com/gatehouse/gatehouse/auth"
	"github.com/gatehouse/gatehouse/auth/authtest"
	"github.com/gatehouse/gatehouse/auth/email"
	"github.com/gatehouse/gatehouse/auth/phone"
)

// TestBrowserSMSAndEmail walks two users through the out-of-band second
// factors in one real Chromium. "ana" enrols a phone by text message in
// forced enrolment (typing the number the Dutch way, "06 ...", which the
// default region NL turns into +31...), logs out and logs in again with a
// texted code. "bo", a staff user without an email address, enrols the
// email method (giving an address in the wizard), logs out and logs in to
// the admin with an emailed code. The SMS gateway is the real development
// gateway (phone.Fake) whose log lines are recorded; the mail goes over
// real SMTP to a small server on 127.0.0.1 inside the test.
func TestBrowserSMSAndEmail(t *testing.T) {
	exe := findChromium(t) // before anything else: skipping costs nothing
	start := time.Now()

	texts := &smsRecorder{}
	mails := newMailSink(t)
	app := authtest.New(t, authtest.Options{
		Setup: func(s *auth.Service) error {
			pc := phone.Defaults()
			pc.DefaultRegion = "NL" // GATEHOUSE_PHONENUMBER_DEFAULT_REGION=NL
			pc.SMS = phone.Fake{Logger: slog.New(texts)}
			if _, err := phone.New(s, pc); err != nil {
				return fmt.Errorf("phone methods: %w", err)
			}
			ec := email.Defaults()
			ec.Host, ec.Port, ec.TLS = mails.host, mails.port, email.TLSNone
			ec.From = "Gatehouse <noreply@example.com>"
			if _, err := email.New(s, ec); err != nil {
				return fmt.Errorf("email method: %w", err)
			}
			return nil
		},
		Mount: func(s *auth.Service, e *gin.Engine) { admin.NewSite(s, admin.Options{}).Mount(e) },
	})
	app.User("ana", false, false)
	if _, err := app.Service.CreateUser(context.Background(), auth.NewUser{Username: "bo", Password: authtest.Password, Staff: true}); err != nil {
		t.Fatalf("create user bo (staff, no email address): %v", err)
	}

	b := newBrowser(t, exe, app.URL())
	t.Logf("screenshots go to %s", b.dir)
	noHTMX := os.Getenv("GATEHOUSE_BROWSER_NO_HTMX") == "1"
	if noHTMX {
		b.step("block htmx in the browser", network.SetBlockedURLs([]string{"*/htmx.min.js*"}))
	}

	const (
		typedNumber = "06 12345678"  // national notation: needs the default region NL
		anaNumber   = "+31612345678" // what the gateway must be given (E.164)
		boAddress   = "bo@example.org"
		profileURL  = "/account/two_factor/"
		setupURL    = "/account/two_factor/setup/"
		completeURL = "/account/two_factor/setup/complete/"
	)
	anaPhone := "phone " + phone.MaskNumber(anaNumber) + " (text message)"
	boDevice := "email (" + email.MaskEmail(boAddress) + ")"

	// mainText reads the visible text of the page's main element.
	mainText := func(s *string) chromedp.Action {
		return chromedp.Evaluate(`(document.querySelector("main")||document.body).innerText`, s)
	}
	// shows asserts that the text read before it contains want.
	shows := func(where string, text *string, want string) chromedp.Action {
		return check(func() error {
			if !strings.Contains(*text, want) {
				return fmt.Errorf("%s does not say %q; it says %q", where, want, *text)
			}
			return nil
		})
	}
	password := func(what, user string) {
		t.Helper()
		b.step(what+": type "+user+"'s username and password and click Next",
			chromedp.WaitVisible("#id_auth-username", chromedp.ByQuery),
			chromedp.SendKeys("#id_auth-username", user, chromedp.ByQuery),
			chromedp.SendKeys("#id_auth-password", authtest.Password, chromedp.ByQuery),
			chromedp.Click(byText("button", "Next"), chromedp.BySearch),
		)
	}
	logout := func(what string) {
		t.Helper()
		b.step(what+": click the header's Log out button and land on the login page",
			chromedp.Click(`//header//button[normalize-space()="Log out"]`, chromedp.BySearch),
			waitPage("/account/login/"),
			chromedp.WaitVisible("#id_auth-username", chromedp.ByQuery),
		)
	}
	// chooseMethod goes from the password step of a user without a device
	// through the welcome step to the method's own step.
	chooseMethod := func(what, method, field string) {
		t.Helper()
		b.step(what+": the password of a user without a device opens the setup wizard's welcome step",
			waitPage(setupURL),
			chromedp.WaitReady(`#wizard input[name="setup_view-current_step"][value="welcome"]`, chromedp.ByQuery),
			chromedp.WaitVisible(byText("button", "Next"), chromedp.BySearch),
		)
		b.step(what+": click Next on the welcome step, choose "+method+" and click Next",
			chromedp.Click(byText("button", "Next"), chromedp.BySearch),
			chromedp.WaitVisible("#method-"+method, chromedp.ByQuery),
			chromedp.Click("#method-"+method, chromedp.ByQuery),
			chromedp.Click(byText("button", "Next"), chromedp.BySearch),
			chromedp.WaitVisible("#"+field, chromedp.ByQuery),
		)
	}
	// complete checks the setup-complete page, whose Continue link must go
	// to next, and follows it.
	complete := func(what, next string) {
		t.Helper()
		var href string
		b.step(what+": the setup-complete page shows and its Continue link goes to "+next,
			waitPage(completeURL),
			chromedp.WaitVisible(byText("a", "Continue"), chromedp.BySearch),
			chromedp.AttributeValue(byText("a", "Continue"), "href", &href, nil, chromedp.BySearch),
			check(func() error {
				if href != next {
					return fmt.Errorf("the Continue link goes to %q, not %q", href, next)
				}
				return nil
			}),
			chromedp.Click(byText("a", "Continue"), chromedp.BySearch),
			waitPage(next),
		)
	}
	// tokenStep waits for the login's token step naming device.
	tokenStep := func(what, device string) {
		t.Helper()
		var text, problem string
		b.step(what+": the token step asks for the code from the "+device+" and reports no problem sending it",
			chromedp.WaitVisible("#id_token-otp_token", chromedp.ByQuery),
			mainText(&text),
			shows("the token step", &text, "Enter the token from your "+device+"."),
			chromedp.Evaluate(`(document.getElementById("form-error")||{textContent:""}).textContent`, &problem),
			check(func() error {
				if problem != "" {
					return fmt.Errorf("the token step says %q instead of sending the code", problem)
				}
				return nil
			}),
		)
	}
	verify := func(what, code string) {
		t.Helper()
		b.step(what+": type the code and click Verify",
			chromedp.SendKeys("#id_token-otp_token", code, chromedp.ByQuery),
			chromedp.Click(byText("button", "Verify"), chromedp.BySearch),
		)
	}

	// ---- ana: text messages ----------------------------------------------
	b.step("ana: open the login page", b.open("/account/login/"), chromedp.WaitVisible("#id_auth-username", chromedp.ByQuery))
	var htmx bool
	b.step("see whether htmx is active", chromedp.Evaluate(`typeof window.htmx === "object"`, &htmx))
	password("ana, first login", "ana")
	chooseMethod("ana, forced enrolment", phone.MethodSMS, "id_sms-number")

	var numberHelp string
	b.step("ana, forced enrolment: type the phone number in national notation ("+typedNumber+")",
		chromedp.SendKeys("#id_sms-number", typedNumber, chromedp.ByQuery),
		chromedp.Text("#id_sms-number-help", &numberHelp, chromedp.ByQuery),
		shows("the number's help text", &numberHelp, "+31 6 12345678"), // the example of region NL
	)
	b.screenshot("sms-setup.png")
	var enrolCode string
	b.step("ana, forced enrolment: click Next; a text message with a code goes to "+anaNumber+" and the wizard asks for it",
		chromedp.Click(byText("button", "Next"), chromedp.BySearch),
		chromedp.WaitVisible("#id_validation-token", chromedp.ByQuery),
		texts.wait(anaNumber, 1, &enrolCode),
	)
	b.step("ana, forced enrolment: type the texted code and click Next",
		chromedp.SendKeys("#id_validation-token", enrolCode, chromedp.ByQuery),
		chromedp.Click(byText("button", "Next"), chromedp.BySearch),
	)
	complete("ana, forced enrolment", profileURL)
	var profile string
	b.step("ana: the account security page names the phone as the primary method",
		chromedp.WaitVisible("main h1", chromedp.ByQuery),
		mainText(&profile),
		shows("the account security page", &profile, "Your primary method is your "+anaPhone+"."),
	)
	logout("ana, after enrolment")

	// The enrolment's text went out just now: a new one may be sent only
	// after the send cooldown (60 s).
	app.Clock.Advance(2 * time.Minute)
	password("ana, second login", "ana")
	tokenStep("ana, second login", anaPhone)
	var loginCode string
	b.step("ana, second login: the token step sent a new text message by itself", texts.wait(anaNumber, 2, &loginCode))
	if loginCode == enrolCode {
		t.Logf("the login code repeated the enrolment code %s (possible by chance, 1 in a million)", loginCode)
	}
	b.screenshot("sms-token.png")
	verify("ana, second login", loginCode)
	b.step("ana, second login: the texted code logs in and opens the account security page",
		waitPage(profileURL),
		chromedp.WaitVisible(`//header//button[normalize-space()="Log out"]`, chromedp.BySearch),
	)
	if got := texts.count(anaNumber); got != 2 {
		t.Errorf("the SMS gateway was asked %d times to text %s, want 2 (enrolment and login)", got, anaNumber)
	}
	logout("ana, done")

	// ---- bo: email ---------------------------------------------------------
	b.step("bo: opening /admin/ sends an anonymous visitor to the login page",
		b.open("/admin/"),
		waitPage("/account/login/?next=%2Fadmin%2F"),
		chromedp.WaitVisible("#id_auth-username", chromedp.ByQuery),
	)
	password("bo, first login", "bo")
	chooseMethod("bo, forced enrolment", email.Code, "id_email-email")
	var prefilled string

	b.step("bo, forced enrolment: the address field is empty (bo has no address) and takes "+boAddress,
		chromedp.Value("#id_email-email", &prefilled, chromedp.ByQuery),
		check(func() error {
			if prefilled != "" {
				return fmt.Errorf("the address field of a user without an address holds %q", prefilled)
			}
			return nil
		}),
		chromedp.SendKeys("#id_email-email", boAddress, chromedp.ByQuery),
	)
	b.screenshot("email-setup.png")
	var bosEnrolCode string
	// Enter, not a click: the form's default button must be Next, not Back.
	b.step("bo, forced enrolment: press Enter in the address field; an email with a code goes to "+boAddress+" and the wizard asks for it",
		chromedp.SendKeys("#id_email-email", kb.Enter, chromedp.ByQuery),
		chromedp.WaitVisible("#id_validation-token", chromedp.ByQuery),
		mails.wait(boAddress, 1, &bosEnrolCode),
	)
	b.step("bo, forced enrolment: type the emailed code and click Next",
		chromedp.SendKeys("#id_validation-token", bosEnrolCode, chromedp.ByQuery),
		chromedp.Click(byText("button", "Next"), chromedp.BySearch),
	)
	complete("bo, forced enrolment that began at /admin/", "/admin/")
	b.step("bo: the admin index shows after enrolment", chromedp.WaitVisible("main h1", chromedp.ByQuery))
	if u, err := app.Service.UserByName(context.Background(), "bo"); err != nil || u.Email != boAddress {
		t.Errorf("after confirming the address bo's account should hold it: got %+v, %v", u, err)
	}
	logout("bo, after enrolment")

	app.Clock.Advance(2 * time.Minute)
	b.step("bo: open /admin/ again", b.open("/admin/"), waitPage("/account/login/?next=%2Fadmin%2F"))
	password("bo, second login", "bo")
	tokenStep("bo, second login", boDevice)
	var bosLoginCode string
	b.step("bo, second login: the token step sent a new email by itself", mails.wait(boAddress, 2, &bosLoginCode))
	b.screenshot("email-token.png")
	verify("bo, second login", bosLoginCode)
	var h1 string
	b.step("bo, second login: the emailed code logs in and opens the admin index",
		waitPage("/admin/"),
		chromedp.WaitVisible("main h1", chromedp.ByQuery),
		chromedp.Text("main h1", &h1, chromedp.ByQuery),
		check(func() error {
			if h1 != "Site administration" {
				return fmt.Errorf("the page at /admin/ shows the heading %q, not %q", h1, "Site administration")
			}
			return nil
		}),
	)
	msgs := mails.messages()
	if len(msgs) != 2 {
		t.Errorf("the SMTP server received %d emails, want 2 (enrolment and login) to %s", len(msgs), boAddress)
	}
	for i, m := range msgs {
		if m.subject != "Your sign-in code for Gatehouse" || m.from != "noreply@example.com" {
			t.Errorf("email %d: subject %q from %q, want %q from noreply@example.com", i+1, m.subject, m.from, "Your sign-in code for Gatehouse")
		}
	}

	var ps []string
	for _, p := range b.Problems() {
		if (noHTMX || !htmx) && strings.Contains(p, "htmx.min.js") {
			continue // blocked on purpose, or not vendored
		}
		ps = append(ps, p)
	}
	if len(ps) > 0 {
		t.Errorf("the pages logged errors in the browser during the journey:\n  %s", strings.Join(ps, "\n  "))
	}
	t.Logf("SMS and email journey done in %v (htmx active in the browser: %v)", time.Since(start).Round(time.Millisecond), htmx)
}

// smsRecorder is a slog.Handler for the development SMS gateway
// (phone.Fake): it keeps the lines `Fake SMS to +31...: "Your token is: N"`.
type smsRecorder struct {
	mu    sync.Mutex
	lines []string
}

func (r *smsRecorder) Enabled(context.Context, slog.Level) bool { return true }
func (r *smsRecorder) Handle(_ context.Context, rec slog.Record) error {
	r.mu.Lock()
	r.lines = append(r.lines, rec.Message)
	r.mu.Unlock()
	return nil
}
func (r *smsRecorder) WithAttrs([]slog.Attr) slog.Handler { return r }
func (r *smsRecorder) WithGroup(string) slog.Handler      { return r }

var fakeSMSLine = regexp.MustCompile(`^Fake SMS to (\+\d+): "Your token is: (\d+)"$`)

// codes are the codes texted to number, oldest first.
func (r *smsRecorder) codes(number string) []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	var out []string
	for _, l := range r.lines {
		if m := fakeSMSLine.FindStringSubmatch(l); m != nil && m[1] == number {
			out = append(out, m[2])
		}
	}
	return out
}

func (r *smsRecorder) count(number string) int { return len(r.codes(number)) }

// wait waits until the n-th text message to number arrived and stores its
// code.
func (r *smsRecorder) wait(number string, n int, code *string) chromedp.Action {
	return chromedp.ActionFunc(func(ctx context.Context) error {
		for {
			if cs := r.codes(number); len(cs) >= n {
				*code = cs[n-1]
				return nil
			}
			select {
			case <-ctx.Done():
				r.mu.Lock()
				seen := append([]string(nil), r.lines...)
				r.mu.Unlock()
				return fmt.Errorf("text message number %d to %s never reached the SMS gateway (it logged %q): %w", n, number, seen, ctx.Err())
			case <-time.After(20 * time.Millisecond):
			}
		}
	})
}

// mailSink is a small SMTP server on 127.0.0.1 (github.com/emersion/go-smtp)
// that keeps what the email method's real SMTP client delivers.
type mailSink struct {
	t    *testing.T
	host string
	port int

	mu   sync.Mutex
	msgs []sunkMail
}

type sunkMail struct {
	from, subject, text string
	to                  []string
}

func newMailSink(t *testing.T) *mailSink {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("cannot listen for the test SMTP server: %v", err)
	}
	s := &mailSink{t: t, host: "127.0.0.1", port: ln.Addr().(*net.TCPAddr).Port}
	srv := smtp.NewServer(s)
	srv.Domain = "localhost"
	srv.ErrorLog = log.New(io.Discard, "", 0)
	srv.ReadTimeout, srv.WriteTimeout = 10*time.Second, 10*time.Second
	go func() { _ = srv.Serve(ln) }()
	t.Cleanup(func() { _ = srv.Close() })
	return s
}

// NewSession is go-smtp's Backend.
func (s *mailSink) NewSession(*smtp.Conn) (smtp.Session, error) { return &sinkSession{s: s}, nil }

type sinkSession struct {
	s    *mailSink
	from string
	to   []string
}

func (ss *sinkSession) Mail(from string, _ *smtp.MailOptions) error { ss.from = from; return nil }
func (ss *sinkSession) Rcpt(to string, _ *smtp.RcptOptions) error {
	ss.to = append(ss.to, to)
	return nil
}
func (ss *sinkSession) Reset()        { ss.from, ss.to = "", nil }
func (ss *sinkSession) Logout() error { return nil }

func (ss *sinkSession) Data(r io.Reader) error {
	raw, err := io.ReadAll(r)
	if err != nil {
		return err
	}
	m := sunkMail{from: ss.from, to: append([]string(nil), ss.to...)}
	m.subject, m.text, err = readMail(raw)
	if err != nil {
		ss.s.t.Errorf("the test SMTP server received an unreadable email: %v\n%s", err, raw)
	}
	ss.s.mu.Lock()
	ss.s.msgs = append(ss.s.msgs, m)
	ss.s.mu.Unlock()
	return nil
}

// readMail returns a message's decoded subject and plain-text part.
func readMail(raw []byte) (subject, text string, err error) {
	msg, err := mail.ReadMessage(bytes.NewReader(raw))
	if err != nil {
		return "", "", err
	}
	if subject, err = new(mime.WordDecoder).DecodeHeader(msg.Header.Get("Subject")); err != nil {
		return "", "", err
	}
	mt, params, err := mime.ParseMediaType(msg.Header.Get("Content-Type"))
	if err != nil {
		return subject, "", err
	}
	if !strings.HasPrefix(mt, "multipart/") {
		text, err = decodeBody(msg.Header.Get("Content-Transfer-Encoding"), msg.Body)
		return subject, text, err
	}
	mr := multipart.NewReader(msg.Body, params["boundary"])
	for {
		p, err := mr.NextPart()
		if errors.Is(err, io.EOF) {
			return subject, text, nil
		}
		if err != nil {
			return subject, text, err
		}
		if ct, _, _ := mime.ParseMediaType(p.Header.Get("Content-Type")); ct == "text/plain" {
			if text, err = decodeBody(p.Header.Get("Content-Transfer-Encoding"), p); err != nil {
				return subject, text, err
			}
		}
	}
}

func decodeBody(enc string, r io.Reader) (string, error) {
	switch strings.ToLower(enc) {
	case "quoted-printable":
		r = quotedprintable.NewReader(r)
	case "base64":
		r = base64.NewDecoder(base64.StdEncoding, r)
	}
	b, err := io.ReadAll(r)
	return strings.ReplaceAll(string(b), "\r\n", "\n"), err
}

func (s *mailSink) messages() []sunkMail {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]sunkMail(nil), s.msgs...)
}

var mailCode = regexp.MustCompile(`(?m)^\s*(\d{6})\s*$`)

// wait waits until the n-th email to addr arrived and stores the code on
// a line of its own in its text.
func (s *mailSink) wait(addr string, n int, code *string) chromedp.Action {
	return chromedp.ActionFunc(func(ctx context.Context) error {
		for {
			var got []sunkMail
			for _, m := range s.messages() {
				for _, to := range m.to {
					if to == addr {
						got = append(got, m)
					}
				}
			}
			if len(got) >= n {
				c := mailCode.FindStringSubmatch(got[n-1].text)
				if c == nil {
					return fmt.Errorf("email number %d to %s has no code on a line of its own:\n%s", n, addr, got[n-1].text)
				}
				*code = c[1]
				return nil
			}
			select {
			case <-ctx.Done():
				return fmt.Errorf("email number %d to %s never reached the SMTP server (it holds %d emails to it, %d in all): %w",
					n, addr, len(got), len(s.messages()), ctx.Err())
			case <-time.After(20 * time.Millisecond):
			}
		}
	})
}
