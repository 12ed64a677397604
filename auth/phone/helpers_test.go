package phone_test

import (
	"context"
	"fmt"
	"html"
	"log/slog"
	"regexp"
	"strings"
	"sync"
	"testing"

	"github.com/gin-gonic/gin"

	"github.com/gatehouse/gatehouse/auth"
	"github.com/gatehouse/gatehouse/auth/authtest"
	"github.com/gatehouse/gatehouse/auth/gateway/twilio"
	"github.com/gatehouse/gatehouse/auth/gateway/twilio/twiliotest"
	"github.com/gatehouse/gatehouse/auth/phone"
	"github.com/gatehouse/gatehouse/internal/testenv"
)

// Numbers used throughout: a Rotterdam landline as in the brief's mask
// example, a Dutch mobile, a German and a US number.
const (
	nlNumber  = "+31101234567"
	nlMasked  = "+31 ** *** **67"
	nlMobile  = "+31612345678"
	deNumber  = "+4930123456"
	usNumber  = "+12015550123"
	setupURL  = "/account/two_factor/setup/"
	loginURL  = "/account/login/"
	registerP = "/account/two_factor/phone/register/"
	publicURL = "https://gatehouse.example"
	twSID     = "ACtest0123456789"
	twToken   = "authtoken0123456789"
	twCaller  = "+15005550006"
)

// fakeLog records the lines of the fake gateway: the real phone.Fake,
// with a logger that keeps its records.
type fakeLog struct {
	mu    sync.Mutex
	lines []string
	level []slog.Level
}

func (f *fakeLog) Enabled(context.Context, slog.Level) bool { return true }
func (f *fakeLog) Handle(_ context.Context, r slog.Record) error {
	f.mu.Lock()
	f.lines = append(f.lines, r.Message)
	f.level = append(f.level, r.Level)
	f.mu.Unlock()
	return nil
}
func (f *fakeLog) WithAttrs([]slog.Attr) slog.Handler { return f }
func (f *fakeLog) WithGroup(string) slog.Handler      { return f }

func (f *fakeLog) all() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]string(nil), f.lines...)
}

var fakeLine = regexp.MustCompile(`^Fake (SMS|call) to (\+\d+): "Your token is: (\d+)"$`)

// last returns the latest code the fake gateway delivered to number by
// kind ("SMS" or "call"), and how many it delivered there.
func (f *fakeLog) last(kind, number string) (string, int) {
	code, n := "", 0
	for _, l := range f.all() {
		if m := fakeLine.FindStringSubmatch(l); m != nil && m[1] == kind && m[2] == number {
			code, n = m[3], n+1
		}
	}
	return code, n
}

// env is a running site with the phone methods.
type env struct {
	t      *testing.T
	app    *authtest.App
	log    *fakeLog
	phones *phone.Phones
	tw     *twiliotest.Server
}

type envOptions struct {
	sms, call string // "fake" (default), "twilio" or "off"
	phone     func(*phone.Config)
	auth      func(*auth.Config)
	twilio    func(*twilio.Config)
	mount     func(*auth.Service, *gin.Engine)
	db        testenv.DB // zero: SQLite
}

// forEachDB runs f against SQLite and, when configured, PostgreSQL and MySQL.
func forEachDB(t *testing.T, f func(t *testing.T, db testenv.DB)) {
	for _, d := range testenv.DBs(t) {
		t.Run(d.Name, func(t *testing.T) { f(t, d) })
	}
}

func newEnv(t *testing.T, o envOptions) *env {
	t.Helper()
	e := &env{t: t, log: &fakeLog{}}
	fake := phone.Fake{Logger: slog.New(e.log)}
	var tw *twilio.Gateway
	if o.sms == "twilio" || o.call == "twilio" {
		e.tw = twiliotest.New(t, twSID, twToken)
		cfg := twilio.Config{AccountSID: twSID, AuthToken: twToken, CallerID: twCaller, PublicURL: publicURL,
			SMS: o.sms == "twilio", Calls: o.call == "twilio", HTTPClient: e.tw.HTTPClient()}
		if o.twilio != nil {
			o.twilio(&cfg)
		}
		var err error
		if tw, err = twilio.New(cfg); err != nil {
			t.Fatal(err)
		}
	}
	e.app = authtest.New(t, authtest.Options{
		DB:     o.db,
		Config: o.auth,
		Mount:  o.mount,
		Setup: func(s *auth.Service) error {
			cfg := phone.Defaults()
			cfg.DefaultRegion = "NL"
			switch o.sms {
			case "", "fake":
				cfg.SMS = fake
			case "twilio":
				cfg.SMS = tw
			}
			switch o.call {
			case "", "fake":
				cfg.Call = fake
			case "twilio":
				cfg.Call = tw
			}
			if o.phone != nil {
				o.phone(&cfg)
			}
			p, err := phone.New(s, cfg)
			e.phones = p
			return err
		},
	})
	if e.tw != nil {
		e.tw.Site(publicURL, e.app.Server.URL)
	}
	return e
}

// post posts the setup wizard.
func post(c *authtest.Client, step string, fields ...string) *authtest.Response {
	c2 := append([]string{"setup_view-current_step", step}, fields...)
	return c.Post(setupURL, c2...)
}

// enrolPhone runs forced enrolment of user with method and number through
// to the validation step and returns the response of the number step.
func (e *env) startEnrol(c *authtest.Client, user, method, number string) *authtest.Response {
	e.t.Helper()
	if r := c.Password(user, authtest.Password); r.Location() != setupURL {
		e.t.Fatalf("password step of a user without devices: want forced enrolment, got %d %q", r.Status, r.Location())
	}
	if r := post(c, "welcome"); !strings.Contains(r.Body, `name="method-method"`) {
		e.t.Fatalf("welcome: want the method step, got %d %s", r.Status, r.Body)
	}
	r := post(c, "method", "method-method", method)
	if !strings.Contains(r.Body, `name="`+method+`-number"`) {
		e.t.Fatalf("method %s: want the number step, got %d %s", method, r.Status, r.Body)
	}
	return post(c, method, method+"-number", number)
}

// code returns the latest code delivered to number by method, through
// whichever gateway the method uses.
func (e *env) code(method, number string) string {
	e.t.Helper()
	if e.tw != nil {
		if method == phone.MethodSMS && len(e.tw.Messages()) > 0 {
			ms := e.tw.Messages()
			for i := len(ms) - 1; i >= 0; i-- {
				if ms[i].To == number {
					return regexp.MustCompile(`\d{6,8}`).FindString(ms[i].Body)
				}
			}
		}
		if method == phone.MethodCall {
			cs := e.tw.Calls()
			for i := len(cs) - 1; i >= 0; i-- {
				if cs[i].To == number && len(cs[i].Scripts) > 0 {
					return twiliotest.Token(cs[i].Scripts[len(cs[i].Scripts)-1])
				}
			}
		}
	}
	kind := "SMS"
	if method == phone.MethodCall {
		kind = "call"
	}
	code, _ := e.log.last(kind, number)
	if code == "" {
		e.t.Fatalf("no %s code was delivered to %s", method, number)
	}
	return code
}

// enrol makes user's default device a phone; the client ends verified.
func (e *env) enrol(c *authtest.Client, user, method, number string) {
	e.t.Helper()
	r := e.startEnrol(c, user, method, number)
	if !strings.Contains(r.Body, `name="validation-token"`) {
		e.t.Fatalf("number step: want the validation step, got %d %s", r.Status, r.Body)
	}
	r = post(c, "validation", "validation-token", e.code(method, number))
	if r.Location() != "/account/two_factor/setup/complete/" {
		e.t.Fatalf("validation: want setup complete, got %d %q %s", r.Status, r.Location(), r.Body)
	}
}

// enrolTOTP enrols an authenticator app through the method step (which
// authtest's Enrol does not expect) and returns its secret.
func (e *env) enrolTOTP(c *authtest.Client, user string) string {
	e.t.Helper()
	if r := c.Password(user, authtest.Password); r.Location() != setupURL {
		e.t.Fatalf("want forced enrolment, got %d %q", r.Status, r.Location())
	}
	post(c, "welcome")
	secret := authtest.Secret(post(c, "method", "method-method", "generator").Body)
	if secret == "" {
		e.t.Fatalf("no TOTP secret shown")
	}
	if r := post(c, "generator", "generator-token", e.app.Code(secret, 0)); r.Location() != "/account/two_factor/setup/complete/" {
		e.t.Fatalf("TOTP enrolment: %d %q", r.Status, r.Location())
	}
	return secret
}

// token posts the login token step.
func token(c *authtest.Client, code string) *authtest.Response {
	return c.Post(loginURL, "login_view-current_step", "token", "token-otp_token", code)
}

// choose posts challenge_device on the token step.
func choose(c *authtest.Client, key string) *authtest.Response {
	return c.Post(loginURL, "login_view-current_step", "token", "challenge_device", key)
}

// register posts the backup-phone wizard.
func register(c *authtest.Client, step string, fields ...string) *authtest.Response {
	return c.Post(registerP, append([]string{"phone_setup_view-current_step", step}, fields...)...)
}

// addBackup registers a backup phone for a verified client.
func (e *env) addBackup(c *authtest.Client, method, number string) {
	e.t.Helper()
	r := register(c, "setup", "setup-method", method, "setup-number", number)
	if !strings.Contains(r.Body, `name="validation-token"`) {
		e.t.Fatalf("backup phone %s %s: want the validation step, got %d %s", method, number, r.Status, r.Body)
	}
	r = register(c, "validation", "validation-token", e.code(method, number))
	if r.Location() != "/account/two_factor/" {
		e.t.Fatalf("backup phone validation: want the profile, got %d %q %s", r.Status, r.Location(), r.Body)
	}
}

// deviceID is the id of user's phone with number (confirmed or not).
func (e *env) device(user, number string) phone.Device {
	e.t.Helper()
	u, err := e.app.Service.UserByName(context.Background(), user)
	if err != nil {
		e.t.Fatal(err)
	}
	var d phone.Device
	if err := e.app.DB.Where("user_id = ? AND number = ?", u.ID, number).Order("id DESC").Take(&d).Error; err != nil {
		e.t.Fatalf("device %s %s: %v", user, number, err)
	}
	return d
}

// text is the body with entities decoded, for matching translated text.
func text(r *authtest.Response) string { return html.UnescapeString(r.Body) }

func wantStatus(t *testing.T, r *authtest.Response, status int, what string) {
	t.Helper()
	if r.Status != status {
		t.Fatalf("%s: want %d, got %d %q %.300s", what, status, r.Status, r.Location(), r.Body)
	}
}

func key(method string, id uint) string { return fmt.Sprintf("%s/%d", method, id) }
