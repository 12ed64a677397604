package phone_test

import (
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/BurntSushi/toml"

	"github.com/gatehouse/gatehouse/auth/authtest"
	"github.com/gatehouse/gatehouse/auth/phone"
	"github.com/gatehouse/gatehouse/locales"
)

// TestPagesTranslated: every phone page and step renders in each language
// with no message id left untranslated, and Hebrew keeps numbers left to
// right.
func TestPagesTranslated(t *testing.T) {
	var msgs map[string]any
	if _, err := toml.DecodeFS(locales.FS, "active.en.toml", &msgs); err != nil {
		t.Fatal(err)
	}
	ids := make([]string, 0, len(msgs))
	for id := range msgs {
		if strings.HasPrefix(id, "phone_") {
			ids = append(ids, regexp.QuoteMeta(id))
		}
	}
	if len(ids) < 20 {
		t.Fatalf("only %d phone messages found", len(ids))
	}
	leak := regexp.MustCompile(`\b(` + strings.Join(ids, "|") + `|<no value>)\b`)
	for _, lang := range []string{"en", "de", "he"} {
		t.Run(lang, func(t *testing.T) {
			e := newEnv(t, envOptions{phone: func(c *phone.Config) { c.SendCooldown = 0 }})
			e.app.User("ana", true, false)
			c := e.app.Client()
			c.Get("/account/login/?lang=" + lang)
			pages := map[string]*authtest.Response{}
			c.Password("ana", authtest.Password)
			post(c, "welcome")
			pages["method step"] = post(c, "method", "method-method", "call")
			pages["bad number"] = post(c, "call", "call-number", "12")
			pages["validation step"] = post(c, "call", "call-number", nlNumber)
			post(c, "validation", "validation-token", e.code(phone.MethodCall, nlNumber))
			pages["register"] = c.Get(registerP)
			pages["register validation"] = register(c, "setup", "setup-method", "sms", "setup-number", nlMobile)
			register(c, "validation", "validation-token", e.code(phone.MethodSMS, nlMobile))
			pages["profile"] = c.Get("/account/two_factor/")
			e.app.Clock.Advance(time.Minute)
			l := e.app.Client()
			l.Get("/account/login/?lang=" + lang)
			pages["token step"] = l.Password("ana", authtest.Password)
			for name, r := range pages {
				if r.Status != 200 {
					t.Errorf("%s: status %d", name, r.Status)
				}
				if m := leak.FindString(text(r)); m != "" {
					t.Errorf("%s shows %q untranslated", name, m)
				}
			}
			if lang == "he" && !strings.Contains(text(pages["token step"]), "\u2066+31 ** *** **67\u2069") {
				t.Errorf("Hebrew token step does not isolate the number left to right")
			}
			if lang == "de" && !strings.Contains(text(pages["token step"]), "Geben Sie den Code aus Ihrer Telefonansage an +31 ** *** **67 ein.") {
				t.Errorf("German token step: %s", text(pages["token step"]))
			}
		})
	}
}
