package admin_test

import (
	"fmt"
	"net/url"
	"testing"

	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/chromedp"

	"github.com/gatehouse/gatehouse/auth"
	"github.com/gatehouse/gatehouse/auth/authtest"
)

// TestBrowserLanguages takes screenshots of the login, setup, account and
// changelist pages in Arabic, Hebrew, Japanese and German, and checks that
// the right-to-left ones mirror the layout (the brand moves to the right).
func TestBrowserLanguages(t *testing.T) {
	exe := findChromium(t)
	app, _ := newLibrary(t)
	seedBooks(t, app, 3)
	app.User("root", true, true)
	verified := app.Client()
	verified.Enrol("root")
	app.User("newbie", true, false)
	pending := app.Client()
	pending.Password("newbie", authtest.Password)
	pending.Post("/account/two_factor/setup/", "setup_view-current_step", "welcome")

	b := newBrowser(t, exe, app.URL())
	setSession := func(c *authtest.Client) chromedp.Action {
		return network.SetCookie(auth.SessionCookie, c.SessionCookie()).WithDomain("localhost").WithPath("/").WithHTTPOnly(true)
	}
	pages := []struct {
		name, path string
		session    *authtest.Client
		wait       string
	}{
		{"login", "/account/login/", nil, "#id_auth-username"},
		{"setup", "/account/two_factor/setup/", pending, "#totp-secret"},
		{"account", "/account/two_factor/", verified, "main h1"},
		{"changelist", "/admin/library/book/", verified, "#changelist"},
	}
	for _, lang := range []string{"ar", "he", "ja", "de"} {
		rtl := lang == "ar" || lang == "he"
		for _, p := range pages {
			what := fmt.Sprintf("%s page in %s", p.name, lang)
			actions := []chromedp.Action{network.ClearBrowserCookies()}
			if p.session != nil {
				actions = append(actions, setSession(p.session))
			}
			var gotLang, gotDir string
			var brandRight bool
			actions = append(actions,
				b.open(p.path+"?"+url.Values{"lang": {lang}}.Encode()),
				chromedp.WaitVisible(p.wait, chromedp.ByQuery),
				chromedp.Evaluate(`document.documentElement.lang`, &gotLang),
				chromedp.Evaluate(`document.documentElement.dir`, &gotDir),
				chromedp.Evaluate(`document.querySelector('.brand').getBoundingClientRect().left > window.innerWidth/2`, &brandRight),
				check(func() error {
					wantDir := "ltr"
					if rtl {
						wantDir = "rtl"
					}
					if gotLang != lang || gotDir != wantDir {
						return fmt.Errorf("%s: html lang=%q dir=%q, want %q %q", what, gotLang, gotDir, lang, wantDir)
					}
					if brandRight != rtl {
						return fmt.Errorf("%s: the header is not mirrored (brand on the right: %v)", what, brandRight)
					}
					return nil
				}),
			)
			b.step(what, actions...)
			b.screenshot(fmt.Sprintf("lang-%s-%s.png", lang, p.name))
		}
	}
	if ps := b.Problems(); len(ps) > 0 {
		t.Errorf("browser problems: %v", ps)
	}
}
