package phone_test

import (
	"errors"
	"net/http"
	"strings"
	"testing"
	"testing/fstest"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/gatehouse/gatehouse/auth"
	"github.com/gatehouse/gatehouse/auth/authtest"
	"github.com/gatehouse/gatehouse/auth/phone"
	"github.com/gatehouse/gatehouse/internal/locale"
	"github.com/gatehouse/gatehouse/locales"
)

func TestParseNumber(t *testing.T) {
	cases := []struct {
		in, region, want string
		err              error
	}{
		{"+31 10 123 4567", "", nlNumber, nil},
		{"010 123 4567", "NL", nlNumber, nil},
		{"010 123 4567", "nl", nlNumber, nil},
		{"010 123 4567", "", "", phone.ErrInvalidNumber}, // no region, no country code
		{"+31 6 12345678", "DE", nlMobile, nil},
		{"", "NL", "", phone.ErrNoNumber},
		{"+31 10 123 4567 ext 3", "", "", phone.ErrInvalidNumber},
		{"+999 123", "", "", phone.ErrInvalidNumber},
		{strings.Repeat("1", 65), "NL", "", phone.ErrInvalidNumber},
	}
	for _, tc := range cases {
		got, err := phone.ParseNumber(tc.in, tc.region)
		if got != tc.want || !errors.Is(err, tc.err) {
			t.Errorf("ParseNumber(%q, %q) = %q, %v; want %q, %v", tc.in, tc.region, got, err, tc.want, tc.err)
		}
	}
}

// TestHelpers: the seed's format_phone_number, mask_phone_number and
// device_action.
func TestHelpers(t *testing.T) {
	cat, err := locale.Load(locales.FS)
	if err != nil {
		t.Fatal(err)
	}
	en, de, he := cat.Lang("en"), cat.Lang("de"), cat.Lang("he")
	cases := []struct{ fn, in, want string }{
		{"format", nlNumber, "+31 10 123 4567"},
		{"format", nlMobile, "+31 6 12345678"},
		{"format", "not a number", "not a number"},
		{"mask", nlNumber, nlMasked},
		{"mask", nlMobile, "+31 * ******78"}, // the seed's own example shape: +31 * *****58
		{"mask", "+4930123456", "+49 ** ****56"},
		{"mask", "", ""},
		{"mask", "12", "12"},
	}
	for _, tc := range cases {
		got := phone.FormatNumber(tc.in)
		if tc.fn == "mask" {
			got = phone.MaskNumber(tc.in)
		}
		if got != tc.want {
			t.Errorf("%s(%q) = %q, want %q", tc.fn, tc.in, got, tc.want)
		}
	}
	actions := []struct {
		l              *locale.Lang
		method, number string
		want           string
	}{
		{en, phone.MethodSMS, nlNumber, "Send text message to +31 ** *** **67"},
		{en, phone.MethodCall, nlNumber, "Call number +31 ** *** **67"},
		{de, phone.MethodSMS, nlNumber, "SMS an +31 ** *** **67 senden"},
		{de, phone.MethodCall, nlNumber, "Nummer +31 ** *** **67 anrufen"},
		{he, phone.MethodSMS, nlNumber, "שליחת הודעת SMS למספר \u2066+31 ** *** **67\u2069"},
		{he, phone.MethodCall, nlNumber, "התקשרות למספר \u2066+31 ** *** **67\u2069"},
	}
	for _, tc := range actions {
		if got := phone.ActionText(tc.l, tc.method, tc.number); got != tc.want {
			t.Errorf("ActionText(%s, %s) = %q, want %q", tc.l.Tag, tc.method, got, tc.want)
		}
		d := &phone.Device{Method: tc.method, Number: tc.number}
		if got := phone.DeviceAction(tc.l, d); got != tc.want {
			t.Errorf("DeviceAction(%s, %s) = %q, want %q", tc.l.Tag, tc.method, got, tc.want)
		}
	}
	if got := phone.DeviceAction(en, nil); got != "" {
		t.Errorf("DeviceAction of no device = %q", got)
	}
}

// TestTemplateFuncs: a site's own template can use the helpers.
func TestTemplateFuncs(t *testing.T) {
	overlay := fstest.MapFS{"account/phone_helpers.html": {Data: []byte(
		`{{define "content"}}<p id="f">{{format_phone_number "+31101234567"}}</p><p id="m">{{mask_phone_number "+31101234567"}}</p>` +
			`<p id="a">{{device_action .Lang .D}}</p>{{end}}`)}}
	e := newEnv(t, envOptions{auth: func(c *auth.Config) { c.Templates = overlay }, mount: func(s *auth.Service, g *gin.Engine) {
		g.GET("/helpers", func(c *gin.Context) {
			s.HTML(c, http.StatusOK, "account/phone_helpers.html", "", s.View(c, "helpers", &phone.Device{Method: phone.MethodCall, Number: nlNumber}))
		})
	}})
	r := e.app.Client().Get("/helpers")
	for _, want := range []string{`<p id="f">+31 10 123 4567</p>`, `<p id="m">` + nlMasked + `</p>`, `<p id="a">Call number ` + nlMasked + `</p>`} {
		if !strings.Contains(text(r), want) {
			t.Fatalf("helpers page lacks %s: %d %s", want, r.Status, r.Body)
		}
	}
}

func TestParseLimit(t *testing.T) {
	cases := []struct {
		in   string
		want phone.Limit
		ok   bool
	}{
		{"10/1h", phone.Limit{Max: 10, Window: time.Hour}, true},
		{" 200 / 24h ", phone.Limit{Max: 200, Window: 24 * time.Hour}, true},
		{"0", phone.Limit{}, true},
		{"10", phone.Limit{}, false},
		{"-1/1h", phone.Limit{}, false},
		{"10/0s", phone.Limit{}, false},
		{"10/soon", phone.Limit{}, false},
		{"x/1h", phone.Limit{}, false},
	}
	for _, tc := range cases {
		got, err := phone.ParseLimit(tc.in)
		if (err == nil) != tc.ok || got != tc.want {
			t.Errorf("ParseLimit(%q) = %v, %v", tc.in, got, err)
		}
	}
}

func TestConfigValidate(t *testing.T) {
	ok := phone.Defaults()
	ok.SMS = phone.Fake{}
	cases := []struct {
		name string
		edit func(*phone.Config)
		want string // "" for valid
	}{
		{"valid", func(*phone.Config) {}, ""},
		{"no gateway", func(c *phone.Config) { c.SMS = nil }, "GATEHOUSE_SMS_GATEWAY"},
		{"bad region", func(c *phone.Config) { c.DefaultRegion = "XX" }, "GATEHOUSE_PHONENUMBER_DEFAULT_REGION"},
		{"bad allowed", func(c *phone.Config) { c.AllowedCountries = []string{"NL", "Netherlands"} }, "GATEHOUSE_PHONE_ALLOWED_COUNTRIES"},
		{"region not allowed", func(c *phone.Config) { c.DefaultRegion, c.AllowedCountries = "DE", []string{"NL"} }, "GATEHOUSE_PHONENUMBER_DEFAULT_REGION"},
		{"validity 11 minutes", func(c *phone.Config) { c.CodeValidity = 11 * time.Minute }, "GATEHOUSE_PHONE_CODE_VALIDITY"},
		{"validity 1 second", func(c *phone.Config) { c.CodeValidity = time.Second }, "GATEHOUSE_PHONE_CODE_VALIDITY"},
		{"negative throttle", func(c *phone.Config) { c.ThrottleFactor = -time.Second }, "GATEHOUSE_PHONE_THROTTLE_FACTOR"},
		{"negative cooldown", func(c *phone.Config) { c.SendCooldown = -time.Second }, "GATEHOUSE_PHONE_SEND_COOLDOWN"},
		{"limit without window", func(c *phone.Config) { c.GlobalLimit = phone.Limit{Max: 3} }, "GATEHOUSE_PHONE_LIMIT_GLOBAL"},
	}
	for _, tc := range cases {
		c := ok
		tc.edit(&c)
		err := c.Validate()
		if (err == nil) != (tc.want == "") || (err != nil && !strings.Contains(err.Error(), tc.want)) {
			t.Errorf("%s: %v, want an error naming %q", tc.name, err, tc.want)
		}
	}
}

// TestMethodsOnlyWithGateway: a method is offered only when its gateway is
// set; without any phone method the backup phone pages do not exist.
func TestMethodsOnlyWithGateway(t *testing.T) {
	cases := []struct {
		sms, call string
		methods   []string
	}{
		{"fake", "off", []string{"sms"}},
		{"off", "fake", []string{"call"}},
		{"fake", "fake", []string{"sms", "call"}},
	}
	for _, tc := range cases {
		e := newEnv(t, envOptions{sms: tc.sms, call: tc.call})
		e.app.User("ana", true, false)
		c := e.app.Client()
		c.Password("ana", authtest.Password)
		r := post(c, "welcome")
		for _, m := range []string{"sms", "call"} {
			want := strings.Contains(strings.Join(tc.methods, ","), m)
			if got := strings.Contains(r.Body, `value="`+m+`"`); got != want {
				t.Errorf("sms=%s call=%s: method %s offered=%v", tc.sms, tc.call, m, got)
			}
		}
		if got := e.phones.Enabled(); strings.Join(got, ",") != strings.Join(tc.methods, ",") {
			t.Errorf("Enabled() = %v", got)
		}
	}
	app := authtest.New(t, authtest.Options{})
	app.User("ana", true, false)
	c := app.Client()
	c.Enrol("ana")
	if r := c.Get(registerP); r.Status != http.StatusNotFound {
		t.Errorf("backup phone page without phone methods: %d", r.Status)
	}
	if r := c.Get("/account/two_factor/"); r.Status != http.StatusOK || strings.Contains(r.Body, "backup-phones") {
		t.Errorf("profile without phone methods: %d", r.Status)
	}
}
