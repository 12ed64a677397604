// Package twilio is the seed's Twilio gateway for the phone methods
// (auth/phone): text messages through the Messages API and voice calls
// through the Calls API, both with github.com/twilio/twilio-go.
//
// A call's script is TwiML that Twilio fetches from the site at
// /twilio/inbound/two_factor/<call-id>/ (Config.PublicURL in front): the
// call id is opaque and single-use, the code itself is never in a URL. The
// endpoint answers only requests whose X-Twilio-Signature is right (HMAC-SHA1
// with the auth token over the URL and the sorted POST parameters,
// compared in constant time). It first greets and asks for a key press, so
// an answering machine never records the code; on the key press it reads
// the digits out in the user's language, mapped to a Twilio voice, and
// falls back to English where Twilio has no voice for the language.
package twilio

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"time"

	twiliogo "github.com/twilio/twilio-go"
	"github.com/twilio/twilio-go/client"
	api "github.com/twilio/twilio-go/rest/api/v2010"

	"github.com/gatehouse/gatehouse/auth/phone"
)

// Config holds the seed's TWILIO_* settings and the site's public URL.
type Config struct {
	// AccountSID is the account's SID ("AC..."). (TWILIO_ACCOUNT_SID)
	AccountSID string
	// AuthToken authenticates API requests and signs Twilio's callbacks.
	// (TWILIO_AUTH_TOKEN)
	AuthToken string
	// CallerID is the verified number calls and messages come from.
	// (TWILIO_CALLER_ID)
	CallerID string
	// MessagingServiceSID, when set, sends text messages through a
	// Messaging Service instead of from CallerID. (TWILIO_MESSAGING_SERVICE_SID)
	MessagingServiceSID string
	// PublicURL is the site's address as Twilio reaches it, such as
	// "https://admin.example.com"; calls fetch their script below it.
	// Required for calls. (GATEHOUSE_PUBLIC_URL)
	PublicURL string
	// SMS and Calls say what the gateway is used for, so Validate asks
	// for the settings each needs.
	SMS, Calls bool
	// HTTPClient, when set, carries the API requests (its Transport and
	// Timeout are used); nil means a 10 s timeout.
	HTTPClient *http.Client
	// Voices adds or replaces voices by language tag ("de", "pt-BR").
	Voices map[string]Voice
}

// Gateway sends codes through Twilio. It implements phone.SMSGateway,
// phone.CallGateway and phone.CallRouter.
type Gateway struct {
	cfg       Config
	base      string // PublicURL without a trailing slash
	validator client.RequestValidator
}

var (
	sidRE   = regexp.MustCompile(`^AC[0-9a-zA-Z]{8,64}$`)
	tokenRE = regexp.MustCompile(`^[0-9a-zA-Z]{8,128}$`)
	mgRE    = regexp.MustCompile(`^MG[0-9a-zA-Z]{8,64}$`)
)

// Validate reports every wrong or missing setting, each named by its
// variable.
func (c Config) Validate() error {
	var errs []error
	switch {
	case c.AccountSID == "":
		errs = append(errs, errors.New("TWILIO_ACCOUNT_SID: required by the twilio gateway"))
	case !sidRE.MatchString(c.AccountSID):
		errs = append(errs, errors.New("TWILIO_ACCOUNT_SID: must be the account SID, AC followed by letters and digits"))
	}
	switch {
	case c.AuthToken == "":
		errs = append(errs, errors.New("TWILIO_AUTH_TOKEN: required by the twilio gateway"))
	case !tokenRE.MatchString(c.AuthToken):
		errs = append(errs, errors.New("TWILIO_AUTH_TOKEN: must be the account's auth token (letters and digits)"))
	}
	if c.MessagingServiceSID != "" && !mgRE.MatchString(c.MessagingServiceSID) {
		errs = append(errs, errors.New("TWILIO_MESSAGING_SERVICE_SID: must be a Messaging Service SID, MG followed by letters and digits"))
	}
	if c.CallerID != "" && !validCallerID(c.CallerID) {
		errs = append(errs, fmt.Errorf("TWILIO_CALLER_ID: %q is not a phone number in international format (+...)", c.CallerID))
	}
	if c.SMS && c.CallerID == "" && c.MessagingServiceSID == "" {
		errs = append(errs, errors.New("TWILIO_CALLER_ID: required for text messages unless TWILIO_MESSAGING_SERVICE_SID is set"))
	}
	if c.Calls {
		if c.CallerID == "" {
			errs = append(errs, errors.New("TWILIO_CALLER_ID: required for voice calls"))
		}
		if c.PublicURL == "" {
			errs = append(errs, errors.New("GATEHOUSE_PUBLIC_URL: required for voice calls with twilio: Twilio fetches each call's script from the site's public address"))
		}
	}
	if c.PublicURL != "" {
		if err := checkPublicURL(c.PublicURL); err != nil {
			errs = append(errs, fmt.Errorf("GATEHOUSE_PUBLIC_URL: %w", err))
		}
	}
	for tag, v := range c.Voices {
		if tag == "" || v.Language == "" {
			errs = append(errs, fmt.Errorf("twilio: voice for %q needs a language tag and a Twilio language", tag))
		}
	}
	return errors.Join(errs...)
}

func validCallerID(s string) bool {
	_, err := phone.ParseNumber(s, "")
	return strings.HasPrefix(s, "+") && err == nil
}

func checkPublicURL(s string) error {
	u, err := url.Parse(s)
	switch {
	case err != nil:
		return fmt.Errorf("%q is not a URL", s)
	case u.Scheme != "https" && u.Scheme != "http":
		return fmt.Errorf("%q must start with https:// (or http://)", s)
	case u.Host == "" || u.User != nil:
		return fmt.Errorf("%q must name a host and nothing else before the path", s)
	case u.RawQuery != "" || u.Fragment != "" || strings.HasSuffix(s, "?") || strings.HasSuffix(s, "#"):
		return fmt.Errorf("%q must not have a query or a fragment", s)
	}
	return nil
}

// New checks cfg and returns the gateway.
func New(cfg Config) (*Gateway, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	return &Gateway{cfg: cfg, base: strings.TrimRight(cfg.PublicURL, "/"), validator: client.NewRequestValidator(cfg.AuthToken)}, nil
}

// CallbackURL is the address Twilio fetches call id's script from.
func (g *Gateway) CallbackURL(id string) string { return g.base + phone.CallbackPath + id + "/" }

// ctxTransport gives every API request the caller's context: twilio-go
// makes its requests with context.Background().
type ctxTransport struct {
	ctx  context.Context
	base http.RoundTripper
}

func (t ctxTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	return t.base.RoundTrip(r.WithContext(t.ctx))
}

// rest returns an API client whose requests run under ctx.
func (g *Gateway) rest(ctx context.Context) *twiliogo.RestClient {
	base := http.DefaultTransport
	timeout := 10 * time.Second
	if hc := g.cfg.HTTPClient; hc != nil {
		if hc.Transport != nil {
			base = hc.Transport
		}
		if hc.Timeout > 0 {
			timeout = hc.Timeout
		}
	}
	c := &client.Client{
		Credentials: client.NewCredentials(g.cfg.AccountSID, g.cfg.AuthToken),
		HTTPClient: &http.Client{Transport: ctxTransport{ctx, base}, Timeout: timeout,
			CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }},
	}
	c.SetAccountSid(g.cfg.AccountSID)
	return twiliogo.NewRestClientWithParams(twiliogo.ClientParams{Client: c})
}

// SendSMS sends the code in a text message in the user's language.
func (g *Gateway) SendSMS(ctx context.Context, m phone.Message) error {
	if m.Lang == nil {
		return errors.New("twilio: message without a language")
	}
	p := &api.CreateMessageParams{}
	p.SetTo(m.To)
	if g.cfg.MessagingServiceSID != "" {
		p.SetMessagingServiceSid(g.cfg.MessagingServiceSID)
	} else {
		p.SetFrom(g.cfg.CallerID)
	}
	p.SetBody(m.Lang.T("phone_sms_body", "Token", m.Token))
	if _, err := g.rest(ctx).Api.CreateMessage(p); err != nil {
		return fmt.Errorf("twilio: create message: %w", err)
	}
	return nil
}

// MakeCall starts a call whose script Twilio fetches from CallbackURL(c.ID).
func (g *Gateway) MakeCall(ctx context.Context, c phone.Call) error {
	if g.base == "" {
		return errors.New("twilio: calls need GATEHOUSE_PUBLIC_URL")
	}
	p := &api.CreateCallParams{}
	p.SetTo(c.To)
	p.SetFrom(g.cfg.CallerID)
	p.SetUrl(g.CallbackURL(c.ID))
	p.SetMethod(http.MethodPost)
	if _, err := g.rest(ctx).Api.CreateCall(p); err != nil {
		return fmt.Errorf("twilio: create call: %w", err)
	}
	return nil
}
