package admin_test

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/chromedp"
	"github.com/gin-gonic/gin"

	"github.com/gatehouse/gatehouse/admin"
	"github.com/gatehouse/gatehouse/auth"
	"github.com/gatehouse/gatehouse/auth/authtest"
)

// TestBrowserLoginJourney walks a new superuser through the whole two-factor
// life in one real Chromium: first login with forced enrolment, the admin,
// logout, a TOTP login, backup codes and a backup-code login, and the
// Hebrew (right-to-left) login page. It waits for each step's content, not
// for navigation events, so it passes with htmx (fragment swaps,
// HX-Redirect) and without it (plain form posts).
func TestBrowserLoginJourney(t *testing.T) {
	exe := findChromium(t) // before anything else: skipping costs nothing
	start := time.Now()
	app := authtest.New(t, authtest.Options{Mount: func(s *auth.Service, e *gin.Engine) {
		admin.NewSite(s, admin.Options{}).Mount(e)
	}})
	b := newBrowser(t, exe, app.URL())
	t.Logf("screenshots go to %s", b.dir)
	// GATEHOUSE_BROWSER_NO_HTMX=1 blocks htmx in the browser, to walk the
	// plain-form path even when static/vendor/htmx.min.js exists.
	_, htmxErr := os.Stat(filepath.Join("..", "static", "vendor", "htmx.min.js"))
	noHTMX := os.Getenv("GATEHOUSE_BROWSER_NO_HTMX") == "1"
	if noHTMX {
		b.step("block htmx in the browser", network.SetBlockedURLs([]string{"*/htmx.min.js*"}))
	}
	t.Logf("static/vendor/htmx.min.js present: %v; blocked in the browser: %v", htmxErr == nil, noHTMX)

	const adminTitle = "Site administration"

	// 1. The superuser, created through the service.
	app.User("root", true, true)

	// The password step, from wherever the login page is.
	password := func(what string) {
		t.Helper()
		b.step(what+": type username and password and submit",
			chromedp.WaitVisible("#id_auth-username", chromedp.ByQuery),
			chromedp.SendKeys("#id_auth-username", "root", chromedp.ByQuery),
			chromedp.SendKeys("#id_auth-password", authtest.Password, chromedp.ByQuery),
			chromedp.Click(byText("button", "Next"), chromedp.BySearch),
		)
	}
	// The admin index, reached after a login.
	adminIndex := func(what string) {
		t.Helper()
		var h1 string
		b.step(what,
			waitPage("/admin/"),
			chromedp.WaitVisible("main h1", chromedp.ByQuery),
			chromedp.Text("main h1", &h1, chromedp.ByQuery),
			check(func() error {
				if h1 != adminTitle {
					return fmt.Errorf("the page at /admin/ shows the heading %q, not %q", h1, adminTitle)
				}
				return nil
			}),
		)
	}
	// Log out with the header's button (a plain POST form).
	logout := func(what string) {
		t.Helper()
		b.step(what+": click the header's Log out button and land on the login page",
			chromedp.Click(`//header//button[normalize-space()="Log out"]`, chromedp.BySearch),
			waitPage("/account/login/"),
			chromedp.WaitVisible("#id_auth-username", chromedp.ByQuery),
		)
	}
	// Open /admin/ as an anonymous visitor: sent to the login with next.
	openAdminAnonymous := func(what string) {
		t.Helper()
		b.step(what+": opening /admin/ sends an anonymous visitor to the login page",
			b.open("/admin/"),
			waitPage("/account/login/?next=%2Fadmin%2F"),
			chromedp.WaitVisible("#id_auth-username", chromedp.ByQuery),
		)
	}

	// 2. /admin/ → login page; the password step.
	openAdminAnonymous("first visit")
	var htmx bool
	b.step("see whether htmx is active", chromedp.Evaluate(`typeof window.htmx === "object"`, &htmx))
	b.screenshot("01-login.png")
	password("first login")

	// 3. Forced enrolment: welcome → generator → complete → Continue → admin.
	b.step("first login: the password of a user without a device opens the setup wizard's welcome step",
		waitPage("/account/two_factor/setup/"),
		chromedp.WaitReady(`#wizard input[name="setup_view-current_step"][value="welcome"]`, chromedp.ByQuery),
		chromedp.WaitVisible(byText("button", "Next"), chromedp.BySearch),
	)
	var secret string
	b.step("setup wizard: click Next on the welcome step and see the authenticator secret",
		chromedp.Click(byText("button", "Next"), chromedp.BySearch),
		chromedp.WaitVisible("#totp-secret", chromedp.ByQuery),
		chromedp.WaitVisible("#id_generator-token", chromedp.ByQuery),
		chromedp.Text("#totp-secret", &secret, chromedp.ByQuery),
		waitTrue("the QR code image loaded", `(() => { const i = document.querySelector("img.qr"); return !!i && i.complete && i.naturalWidth > 0 })()`),
	)
	secret = strings.ReplaceAll(strings.TrimSpace(secret), " ", "")
	if secret == "" {
		t.Fatal("the setup wizard's generator step shows an empty secret in #totp-secret")
	}
	b.screenshot("02-setup-generator.png")

	var continueHref string
	b.step("setup wizard: type the authenticator code, submit, and see the setup-complete page",
		chromedp.SendKeys("#id_generator-token", app.Code(secret, 0), chromedp.ByQuery),
		chromedp.Click(byText("button", "Next"), chromedp.BySearch),
		waitPage("/account/two_factor/setup/complete/"),
		chromedp.WaitVisible(byText("a", "Continue"), chromedp.BySearch),
		chromedp.AttributeValue(byText("a", "Continue"), "href", &continueHref, nil, chromedp.BySearch),
	)
	if continueHref != "/admin/" {
		t.Errorf("after forced enrolment that began at /admin/, the setup-complete Continue link goes to %q, not back to /admin/", continueHref)
	}
	b.step("setup complete: click Continue",
		chromedp.Click(byText("a", "Continue"), chromedp.BySearch),
	)
	if continueHref != "/admin/" {
		// Carry on from the admin so the rest of the journey still runs.
		b.step("open /admin/ by hand after the Continue link went elsewhere",
			waitPage(continueHref), b.open("/admin/"))
	}
	adminIndex("after enrolment the admin index did not show")
	b.screenshot("03-admin-index.png")

	// 4. Log out.
	logout("after enrolment")
	openAdminAnonymous("after logout")

	// 5. A later login with password + TOTP.
	app.Clock.Advance(time.Minute)
	password("TOTP login")
	b.step("TOTP login: the password step of an enrolled user shows the token step",
		chromedp.WaitVisible("#id_token-otp_token", chromedp.ByQuery),
	)
	b.screenshot("04-token-step.png")
	b.step("TOTP login: type the authenticator code and click Verify",
		chromedp.SendKeys("#id_token-otp_token", app.Code(secret, 0), chromedp.ByQuery),
		chromedp.Click(byText("button", "Verify"), chromedp.BySearch),
	)
	adminIndex("after the TOTP code the admin index did not show")

	// 6. Backup codes: generate, log out, log in with one.
	var code string
	var count int
	b.step("backup codes: open the page and click Generate new codes; the codes show",
		b.open("/account/two_factor/backup/tokens/"),
		chromedp.WaitVisible(byText("button", "Generate new codes"), chromedp.BySearch),
		chromedp.Click(byText("button", "Generate new codes"), chromedp.BySearch),
		chromedp.WaitVisible(".backup-token", chromedp.ByQuery),
		chromedp.Text(".backup-token", &code, chromedp.ByQuery),
		chromedp.Evaluate(`document.querySelectorAll(".backup-token").length`, &count),
	)
	code = strings.TrimSpace(code)
	if code == "" || count != 10 {
		t.Fatalf("after Generate new codes the page shows %d backup codes (want 10), the first is %q", count, code)
	}
	b.screenshot("05-backup-codes.png")

	// 6b. Sudo mode: minutes later the same page first asks for a code
	// again (/account/two_factor/reauth/), then returns to it.
	app.Clock.Advance(6 * time.Minute)
	b.step("sudo mode: after the window the backup-codes page sends to the re-authentication page",
		b.open("/account/two_factor/backup/tokens/"),
		waitPage("/account/two_factor/reauth/?next=%2Faccount%2Ftwo_factor%2Fbackup%2Ftokens%2F"),
		chromedp.WaitVisible("#id_token-otp_token", chromedp.ByQuery),
	)
	b.screenshot("05b-reauth.png")
	b.step("sudo mode: type the authenticator code, click Verify, and land back on the backup codes",
		chromedp.SendKeys("#id_token-otp_token", app.Code(secret, 0), chromedp.ByQuery),
		chromedp.Click(byText("button", "Verify"), chromedp.BySearch),
		waitPage("/account/two_factor/backup/tokens/"),
		chromedp.WaitVisible(byText("button", "Generate new codes"), chromedp.BySearch),
	)

	logout("after generating backup codes")
	openAdminAnonymous("backup-code login")
	password("backup-code login")
	b.step(`backup-code login: on the token step click "Use a backup code" and see the backup-code field`,
		chromedp.WaitVisible("#id_token-otp_token", chromedp.ByQuery),
		chromedp.Click(byText("button", "Use a backup code"), chromedp.BySearch),
		chromedp.WaitVisible("#id_backup-otp_token", chromedp.ByQuery),
	)
	b.step("backup-code login: type a backup code and click Verify",
		chromedp.SendKeys("#id_backup-otp_token", code, chromedp.ByQuery),
		chromedp.Click(byText("button", "Verify"), chromedp.BySearch),
	)
	adminIndex("after the backup code the admin index did not show")

	// 7. The Hebrew login page is right-to-left.
	logout("before the Hebrew page")
	var dir, lang string
	b.step("open the login page in Hebrew (?lang=he)",
		b.open("/account/login/?lang=he"),
		chromedp.WaitVisible("#id_auth-username", chromedp.ByQuery),
		chromedp.Evaluate(`document.documentElement.dir`, &dir),
		chromedp.Evaluate(`document.documentElement.lang`, &lang),
	)
	b.screenshot("06-login-he.png")
	if _, err := os.Stat(filepath.Join("..", "locales", "active.he.toml")); err == nil {
		if lang != "he" || dir != "rtl" {
			t.Errorf(`the login page with ?lang=he has <html lang=%q dir=%q>, want lang="he" dir="rtl"`, lang, dir)
		}
	} else {
		t.Logf("locales/active.he.toml does not exist: the page fell back to lang=%q dir=%q; not asserted", lang, dir)
	}

	var ps []string
	for _, p := range b.Problems() {
		// Without htmx (not copied yet, or blocked) the layout's script tag fails to load: expected.
		if !htmx && strings.Contains(p, "htmx.min.js") {
			continue
		}
		ps = append(ps, p)
	}
	if len(ps) > 0 {
		t.Errorf("the pages logged errors in the browser during the journey:\n  %s", strings.Join(ps, "\n  "))
	}
	t.Logf("journey done in %v (htmx active in the browser: %v)", time.Since(start).Round(time.Millisecond), htmx)
}
