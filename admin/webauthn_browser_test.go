package admin_test

import (
	"context"
	"fmt"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/cdproto/page"
	cdpwebauthn "github.com/chromedp/cdproto/webauthn"
	"github.com/chromedp/chromedp"
	"github.com/gin-gonic/gin"

	"github.com/gatehouse/gatehouse/admin"
	"github.com/gatehouse/gatehouse/auth"
	"github.com/gatehouse/gatehouse/auth/authtest"
	gwebauthn "github.com/gatehouse/gatehouse/auth/webauthn"
)

// TestBrowserWebAuthnJourney walks a new superuser through security keys
// in a real Chromium with the DevTools virtual authenticator (ctap2,
// internal transport, resident keys, user verification, automatic presence):
// enrol a key in forced enrolment, log out, log in with the key, add a
// second key on the keys page, fail to add the same authenticator twice
// (the message shows), and sign in with a passkey. The page is on
// http://localhost:PORT: an IP address is no WebAuthn RP ID.
func TestBrowserWebAuthnJourney(t *testing.T) {
	exe := findChromium(t) // before anything else: skipping costs nothing
	start := time.Now()
	app := authtest.New(t, authtest.Options{
		Setup: func(s *auth.Service) error {
			cfg := gwebauthn.Defaults()
			cfg.RPName = "Gatehouse"
			cfg.PasskeyLogin = true
			_, err := gwebauthn.New(s, cfg)
			return err
		},
		Mount: func(s *auth.Service, e *gin.Engine) { admin.NewSite(s, admin.Options{}).Mount(e) },
	})
	app.User("root", true, true)
	b := newBrowser(t, exe, app.URL())
	// GATEHOUSE_BROWSER_NO_HTMX=1 walks the plain-form path (as in
	// TestBrowserLoginJourney): the ceremony script must work either way.
	noHTMX := os.Getenv("GATEHOUSE_BROWSER_NO_HTMX") == "1"
	if noHTMX {
		b.step("block htmx in the browser", network.SetBlockedURLs([]string{"*/htmx.min.js*"}))
	}

	// The virtual authenticator, as a platform authenticator with a
	// fingerprint reader that always says yes.
	authenticator := func(name string) cdpwebauthn.AuthenticatorID {
		t.Helper()
		var id cdpwebauthn.AuthenticatorID
		b.step("add virtual authenticator "+name, chromedp.ActionFunc(func(ctx context.Context) error {
			var err error
			id, err = cdpwebauthn.AddVirtualAuthenticator(&cdpwebauthn.VirtualAuthenticatorOptions{
				Protocol: cdpwebauthn.AuthenticatorProtocolCtap2, Ctap2version: cdpwebauthn.Ctap2versionCtap21,
				Transport: cdpwebauthn.AuthenticatorTransportInternal, HasResidentKey: true, HasUserVerification: true,
				IsUserVerified: true, AutomaticPresenceSimulation: true,
			}).Do(ctx)
			return err
		}))
		return id
	}
	credentials := func(id cdpwebauthn.AuthenticatorID) []*cdpwebauthn.Credential {
		t.Helper()
		var out []*cdpwebauthn.Credential
		b.step("read the virtual authenticator's credentials", chromedp.ActionFunc(func(ctx context.Context) error {
			var err error
			out, err = cdpwebauthn.GetCredentials(id).Do(ctx)
			return err
		}))
		return out
	}
	password := func(what string) {
		t.Helper()
		b.step(what+": type username and password and submit",
			chromedp.WaitVisible("#id_auth-username", chromedp.ByQuery),
			chromedp.SendKeys("#id_auth-username", "root", chromedp.ByQuery),
			chromedp.SendKeys("#id_auth-password", authtest.Password, chromedp.ByQuery),
			chromedp.Click(byText("button", "Next"), chromedp.BySearch),
		)
	}
	adminIndex := func(what string) {
		t.Helper()
		b.step(what, waitPage("/admin/"), chromedp.WaitVisible("main h1", chromedp.ByQuery))
	}
	logout := func(what string) {
		t.Helper()
		b.step(what+": log out",
			chromedp.Click(`//header//button[normalize-space()="Log out"]`, chromedp.BySearch),
			waitPage("/account/login/"),
			chromedp.WaitVisible("#id_auth-username", chromedp.ByQuery),
		)
	}
	// errorShown waits for the ceremony's error line to say want.
	errorShown := func(what, want string) {
		t.Helper()
		var got string
		b.step(what,
			waitTrue("the security-key error is shown", `(() => { const e = document.querySelector("[data-webauthn-error]"); return !!e && !e.hidden && e.textContent.length > 0 })()`),
			chromedp.Text("[data-webauthn-error]", &got, chromedp.ByQuery),
			check(func() error {
				if !strings.Contains(got, want) {
					return fmt.Errorf("the page says %q, want %q", got, want)
				}
				return nil
			}),
		)
	}

	b.step("enable the WebAuthn DevTools domain", chromedp.ActionFunc(func(ctx context.Context) error {
		return cdpwebauthn.Enable().Do(ctx)
	}))
	first := authenticator("A")

	// 1. Forced enrolment with a security key.
	b.step("open /admin/ and land on the login page", b.open("/admin/"), waitPage("/account/login/?next=%2Fadmin%2F"))
	password("first login")
	b.step("forced enrolment: welcome step, then choose the security key",
		waitPage("/account/two_factor/setup/"),
		chromedp.WaitVisible(byText("button", "Next"), chromedp.BySearch),
		chromedp.Click(byText("button", "Next"), chromedp.BySearch),
		chromedp.WaitVisible("#method-webauthn", chromedp.ByQuery),
		chromedp.Click("#method-webauthn", chromedp.ByQuery),
		chromedp.Click(byText("button", "Next"), chromedp.BySearch),
		chromedp.WaitVisible(byText("button", "Register security key"), chromedp.BySearch),
	)
	b.screenshot("webauthn-01-setup.png")
	b.step("forced enrolment: click Register security key; the browser registers the key and the wizard completes",
		chromedp.Click(byText("button", "Register security key"), chromedp.BySearch),
		waitPage("/account/two_factor/setup/complete/"),
		chromedp.WaitVisible(byText("a", "Continue"), chromedp.BySearch),
		chromedp.Click(byText("a", "Continue"), chromedp.BySearch),
	)
	adminIndex("after enrolling a key the admin index shows")
	if cs := credentials(first); len(cs) != 1 || !cs[0].IsResidentCredential {
		t.Fatalf("after enrolment the virtual authenticator should hold one resident credential, holds %d", len(cs))
	}

	// 2. Log out, log in with the key.
	logout("after enrolment")
	b.step("open /admin/ again", b.open("/admin/"), waitPage("/account/login/?next=%2Fadmin%2F"))
	password("security-key login")
	b.step("token step: the security key button shows",
		chromedp.WaitVisible(byText("button", "Use security key"), chromedp.BySearch),
	)
	b.screenshot("webauthn-02-token-step.png")
	// The form's own Verify button runs the ceremony too (the result field
	// is still empty), then submits the answer as token-otp_token.
	b.step("token step: click Verify", chromedp.Click(byText("button", "Verify"), chromedp.BySearch))
	adminIndex("after the security key the admin index shows")

	// 3. A second key from the keys page: another authenticator.
	b.step("remove authenticator A", chromedp.ActionFunc(func(ctx context.Context) error {
		return cdpwebauthn.RemoveVirtualAuthenticator(first).Do(ctx)
	}))
	second := authenticator("B")
	b.step("account security page links the keys page; open it",
		b.open("/account/two_factor/"),
		chromedp.WaitVisible(byText("a", "Manage security keys and passkeys"), chromedp.BySearch),
		chromedp.Click(byText("a", "Manage security keys and passkeys"), chromedp.BySearch),
		waitPage("/account/two_factor/webauthn/"),
		chromedp.WaitVisible(byText("button", "Add security key"), chromedp.BySearch),
	)
	b.step("keys page: name the second key and click Add security key",
		chromedp.SendKeys("#id_webauthn-name", "Second key", chromedp.ByQuery),
		chromedp.Click(byText("button", "Add security key"), chromedp.BySearch),
		waitTrue("the new key is listed", `document.body.innerText.includes("Second key") && document.body.innerText.includes("The security key was added.")`),
		waitTrue("two keys are counted", `document.body.innerText.includes("You have 2 security keys registered.")`),
	)
	b.screenshot("webauthn-03-keys.png")

	// 4. The same authenticator again: excluded, and the page says so.
	b.step("keys page: try to add authenticator B again",
		chromedp.SendKeys("#id_webauthn-name", "Same again", chromedp.ByQuery),
		chromedp.Click(byText("button", "Add security key"), chromedp.BySearch),
	)
	errorShown("the duplicate is refused with a message", "This security key is already registered to your account.")
	b.screenshot("webauthn-04-duplicate.png")
	var keysListed int
	b.step("still two keys", chromedp.Evaluate(`document.querySelectorAll("li.webauthn-key").length`, &keysListed))
	if keysListed != 2 {
		t.Errorf("after the refused duplicate the page lists %d keys, want 2", keysListed)
	}
	if cs := credentials(second); len(cs) != 1 {
		t.Errorf("authenticator B should hold exactly one credential after the refused duplicate, holds %d", len(cs))
	}

	// 5. Passkey sign-in: no username, no password.
	logout("before the passkey")
	b.step("open /admin/ as an anonymous visitor", b.open("/admin/"), waitPage("/account/login/?next=%2Fadmin%2F"))
	b.step("login page: the passkey button shows",
		chromedp.WaitVisible(byText("button", "Sign in with a passkey"), chromedp.BySearch),
	)
	b.screenshot("webauthn-05-login-passkey.png")

	// An authenticator without a passkey for this site: the browser says
	// no, and the page says so in the user's terms.
	saved := credentials(second)
	b.step("swap authenticator B for an empty one", chromedp.ActionFunc(func(ctx context.Context) error {
		return cdpwebauthn.RemoveVirtualAuthenticator(second).Do(ctx)
	}))
	empty := authenticator("C (empty)")
	b.step("click Sign in with a passkey with no passkey at hand",
		chromedp.Click(byText("button", "Sign in with a passkey"), chromedp.BySearch))
	errorShown("the refusal is explained", "The security key request was cancelled or not allowed.")
	b.step("remove the empty authenticator", chromedp.ActionFunc(func(ctx context.Context) error {
		return cdpwebauthn.RemoveVirtualAuthenticator(empty).Do(ctx)
	}))
	restored := authenticator("B again")
	b.step("restore the passkey into it", chromedp.ActionFunc(func(ctx context.Context) error {
		for _, c := range saved {
			c.RpID = "localhost"
			if err := cdpwebauthn.AddCredential(restored, c).Do(ctx); err != nil {
				return err
			}
		}
		return nil
	}))
	b.step("click Sign in with a passkey", chromedp.Click(byText("button", "Sign in with a passkey"), chromedp.BySearch))
	adminIndex("after the passkey the admin index shows")

	var ps []string
	for _, p := range b.Problems() {
		if noHTMX && strings.Contains(p, "htmx.min.js") {
			continue // blocked on purpose
		}
		ps = append(ps, p)
	}
	if len(ps) > 0 {
		t.Errorf("the pages logged errors in the browser during the journey:\n  %s", strings.Join(ps, "\n  "))
	}
	t.Logf("WebAuthn journey done in %v (htmx blocked: %v)", time.Since(start).Round(time.Millisecond), noHTMX)
}

// TestBrowserWebAuthnUnsupported: in a browser without WebAuthn the
// security-key step says so (here in Hebrew, right to left) and keeps its
// ceremony button hidden; the wizard's other buttons stay.
func TestBrowserWebAuthnUnsupported(t *testing.T) {
	exe := findChromium(t)
	app := authtest.New(t, authtest.Options{
		Setup: func(s *auth.Service) error {
			cfg := gwebauthn.Defaults()
			cfg.RPName = "Gatehouse"
			_, err := gwebauthn.New(s, cfg)
			return err
		},
		Mount: func(s *auth.Service, e *gin.Engine) { admin.NewSite(s, admin.Options{}).Mount(e) },
	})
	app.User("root", true, true)
	b := newBrowser(t, exe, app.URL())
	b.step("remove WebAuthn from every page", chromedp.ActionFunc(func(ctx context.Context) error {
		_, err := page.AddScriptToEvaluateOnNewDocument(`delete window.PublicKeyCredential;`).Do(ctx)
		return err
	}))
	const unsupported = "הדפדפן הזה אינו תומך במפתחות אבטחה" // webauthn_unsupported in webauthn.he.toml
	var msg string
	var buttonHidden bool
	b.step("log in in Hebrew and choose the security key in the setup wizard",
		b.open("/account/login/?lang=he"),
		chromedp.WaitVisible("#id_auth-username", chromedp.ByQuery),
		chromedp.SendKeys("#id_auth-username", "root", chromedp.ByQuery),
		chromedp.SendKeys("#id_auth-password", authtest.Password, chromedp.ByQuery),
		chromedp.Click("#wizard button.primary", chromedp.ByQuery),
		waitPage("/account/two_factor/setup/"),
		chromedp.WaitVisible("#wizard button.primary", chromedp.ByQuery),
		chromedp.Click("#wizard button.primary", chromedp.ByQuery),
		chromedp.WaitVisible("#method-webauthn", chromedp.ByQuery),
		chromedp.Click("#method-webauthn", chromedp.ByQuery),
		chromedp.Click("#wizard .actions button.primary", chromedp.ByQuery),
		waitTrue("the security-key step shows its error", `(() => { const e = document.querySelector("[data-webauthn-error]"); return !!e && !e.hidden })()`),
		chromedp.Text("[data-webauthn-error]", &msg, chromedp.ByQuery),
		chromedp.Evaluate(`(() => { const b = document.querySelector("[data-webauthn-start]"); return !b || b.getClientRects().length === 0 })()`, &buttonHidden),
	)
	b.screenshot("webauthn-06-unsupported-he.png")
	if !strings.Contains(msg, unsupported) || !buttonHidden {
		t.Errorf("without WebAuthn the step should say %q and hide its button; it says %q (button hidden: %v)", unsupported, msg, buttonHidden)
	}
	if ps := b.Problems(); len(ps) > 0 {
		t.Errorf("the pages logged errors:\n  %s", strings.Join(ps, "\n  "))
	}
}
