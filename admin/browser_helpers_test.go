package admin_test

import (
	"context"
	"errors"
	"fmt"
	"math"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/emulation"
	"github.com/chromedp/cdproto/log"
	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/cdproto/runtime"
	"github.com/chromedp/chromedp"
)

// stepTimeout bounds every browser step, so a hang fails with the step's
// name instead of running into go test's global timeout.
const stepTimeout = 15 * time.Second

// browser is one real Chromium driving one test site.
type browser struct {
	t    *testing.T
	ctx  context.Context
	base string // http://localhost:PORT
	dir  string // screenshots

	mu       sync.Mutex
	problems []string // uncaught JS exceptions and console/log errors (CSP, 404s)
}

// findChromium returns a Chromium executable, or skips (fails when
// GATEHOUSE_TEST_REQUIRE_SERVICES=1) when there is none.
func findChromium(t *testing.T) string {
	t.Helper()
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	const msg = "no Chromium found on PATH (tried chromium, chromium-browser, google-chrome); install it with `apt-get install -y chromium`"
	if os.Getenv("GATEHOUSE_TEST_REQUIRE_SERVICES") == "1" {
		t.Fatal(msg + " (GATEHOUSE_TEST_REQUIRE_SERVICES=1, so this is a failure)")
	}
	t.Skip(msg)
	return ""
}

// artifactsDir is where screenshots go: $GATEHOUSE_ARTIFACTS, else
// ../artifacts/screenshots (gitignored).
func artifactsDir(t *testing.T) string {
	t.Helper()
	dir := os.Getenv("GATEHOUSE_ARTIFACTS")
	if dir == "" {
		dir = filepath.Join("..", "artifacts", "screenshots")
	}
	if abs, err := filepath.Abs(dir); err == nil {
		dir = abs
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatalf("cannot create the screenshot directory %s: %v", dir, err)
	}
	return dir
}

// newBrowser starts the headless Chromium exe for base (http://localhost:PORT).
func newBrowser(t *testing.T, exe, base string) *browser {
	t.Helper()
	profile, err := os.MkdirTemp("", "gatehouse-chromium-")
	if err != nil {
		t.Fatal(err)
	}
	opts := []chromedp.ExecAllocatorOption{
		chromedp.ExecPath(exe),
		chromedp.Headless,
		chromedp.NoSandbox,
		chromedp.DisableGPU,
		chromedp.NoFirstRun,
		chromedp.NoDefaultBrowserCheck,
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("disable-quic", true),
		chromedp.UserDataDir(profile),
		chromedp.WindowSize(1280, 900),
	}
	actx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	// Chromium's helpers can still write to the profile as it exits, so the
	// profile is removed best-effort after the browser is closed.
	t.Cleanup(func() { os.RemoveAll(profile) })
	t.Cleanup(cancelAlloc)
	ctx, cancel := chromedp.NewContext(actx, chromedp.WithErrorf(func(f string, a ...any) {
		// cdproto may not know every event of a newer Chromium; such
		// decoding noise is not a failure of the site.
		t.Logf("chromedp: "+f, a...)
	}))
	t.Cleanup(func() {
		_ = chromedp.Cancel(ctx) // closes the browser and waits for it
		cancel()
	})

	b := &browser{t: t, ctx: ctx, base: base, dir: artifactsDir(t)}
	chromedp.ListenTarget(ctx, func(ev any) {
		switch ev := ev.(type) {
		case *runtime.EventExceptionThrown:
			d := ev.ExceptionDetails
			msg := d.Text
			if d.Exception != nil && d.Exception.Description != "" {
				msg = d.Exception.Description
			}
			b.problem(fmt.Sprintf("uncaught JS exception at %s:%d: %s", d.URL, d.LineNumber, msg))
		case *log.EventEntryAdded:
			// Chromium asks for /favicon.ico on its own; the site has none.
			if ev.Entry.Level == log.LevelError && !strings.HasSuffix(ev.Entry.URL, "/favicon.ico") {
				b.problem(fmt.Sprintf("browser log error (%s) %s: %s", ev.Entry.Source, ev.Entry.URL, ev.Entry.Text))
			}
		case *runtime.EventConsoleAPICalled:
			if ev.Type == runtime.APITypeError {
				var parts []string
				for _, a := range ev.Args {
					parts = append(parts, strings.Trim(string(a.Value), `"`)+a.Description)
				}
				b.problem("console.error: " + strings.Join(parts, " "))
			}
		}
	})

	// The first Run starts the browser and ties it to ctx (not to a step's
	// timeout, whose cancellation would close it).
	start := time.Now()
	done := make(chan error, 1)
	go func() { done <- chromedp.Run(ctx) }()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("Chromium (%s) did not start: %v", exe, err)
		}
	case <-time.After(30 * time.Second):
		t.Fatalf("Chromium (%s) did not start within 30 s", exe)
	}
	t.Logf("Chromium %s started in %v", exe, time.Since(start).Round(time.Millisecond))
	return b
}

func (b *browser) problem(s string) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.problems = append(b.problems, s)
}

// Problems returns what the pages logged as errors so far.
func (b *browser) Problems() []string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return append([]string(nil), b.problems...)
}

// step runs actions with a per-step timeout; what names the step in user
// terms. On failure it records the page (URL, h1, screenshot) and fails.
func (b *browser) step(what string, actions ...chromedp.Action) {
	b.t.Helper()
	start := time.Now()
	ctx, cancel := context.WithTimeout(b.ctx, stepTimeout)
	defer cancel()
	err := chromedp.Run(ctx, actions...)
	if err == nil {
		b.t.Logf("step %-60q %v", what, time.Since(start).Round(time.Millisecond))
		return
	}
	if errors.Is(err, context.DeadlineExceeded) || errors.Is(ctx.Err(), context.DeadlineExceeded) {
		err = fmt.Errorf("hung: nothing happened within %v (%w)", stepTimeout, err)
	}
	b.t.Fatalf("%s: %v\n%s", what, err, b.describe("fail-"+slug(what)+".png"))
}

// describe reports where the browser is and what it shows, for failures.
func (b *browser) describe(shot string) string {
	ctx, cancel := context.WithTimeout(b.ctx, 5*time.Second)
	defer cancel()
	var loc, title, text string
	var png []byte
	_ = chromedp.Run(ctx,
		chromedp.Location(&loc),
		chromedp.Title(&title),
		chromedp.Evaluate(`(document.querySelector("main")||document.body||{innerText:""}).innerText.slice(0, 600)`, &text),
		fullPage(&png),
	)
	out := fmt.Sprintf("  page: %s\n  title: %q\n  text: %q", loc, title, text)
	if len(png) > 0 {
		p := filepath.Join(b.dir, shot)
		if err := os.WriteFile(p, png, 0o644); err == nil {
			out += "\n  screenshot: " + p
		}
	}
	if ps := b.Problems(); len(ps) > 0 {
		out += "\n  browser errors:\n    " + strings.Join(ps, "\n    ")
	}
	return out
}

func slug(s string) string {
	var sb strings.Builder
	for _, r := range strings.ToLower(s) {
		switch {
		case r >= 'a' && r <= 'z', r >= '0' && r <= '9':
			sb.WriteRune(r)
		default:
			if sb.Len() > 0 && !strings.HasSuffix(sb.String(), "-") {
				sb.WriteByte('-')
			}
		}
		if sb.Len() >= 60 {
			break
		}
	}
	return strings.Trim(sb.String(), "-")
}

// screenshot saves a full-page PNG as name in the artifacts directory.
func (b *browser) screenshot(name string) {
	b.t.Helper()
	var png []byte
	b.step("take screenshot "+name, fullPage(&png))
	p := filepath.Join(b.dir, name)
	if err := os.WriteFile(p, png, 0o644); err != nil {
		b.t.Fatalf("cannot write screenshot %s: %v", p, err)
	}
}

// fullPage captures the whole page as PNG by growing the viewport to the
// content's size for the shot. chromedp.FullScreenshot (CDP
// captureBeyondViewport) draws right-to-left pages shifted sideways in this
// Chromium although the page itself does not overflow, so it is not used.
func fullPage(res *[]byte) chromedp.Action {
	return chromedp.ActionFunc(func(ctx context.Context) error {
		_, _, _, lv, _, content, err := page.GetLayoutMetrics().Do(ctx)
		if err != nil {
			return err
		}
		w, h := int64(lv.ClientWidth), int64(math.Ceil(content.Height))
		if h < int64(lv.ClientHeight) {
			h = int64(lv.ClientHeight)
		}
		if err := emulation.SetDeviceMetricsOverride(w, h, 1, false).Do(ctx); err != nil {
			return err
		}
		defer emulation.ClearDeviceMetricsOverride().Do(ctx) //nolint:errcheck
		*res, err = page.CaptureScreenshot().WithFormat(page.CaptureScreenshotFormatPng).Do(ctx)
		return err
	})
}

// open navigates to a site path (and waits for the load event).
func (b *browser) open(path string) chromedp.Action {
	return chromedp.Navigate(b.base + path)
}

// waitPage polls the browser until its URL's path and query are want. It
// waits for the state, not for navigation events, so it works for plain
// redirects and for htmx's HX-Redirect alike.
func waitPage(want string) chromedp.Action {
	return chromedp.ActionFunc(func(ctx context.Context) error {
		var last string
		for {
			var loc string
			if err := chromedp.Location(&loc).Do(ctx); err == nil {
				last = loc
				if u, err := url.Parse(loc); err == nil && u.RequestURI() == want {
					return nil
				}
			}
			select {
			case <-ctx.Done():
				return fmt.Errorf("the browser never reached %s (last at %s): %w", want, last, ctx.Err())
			case <-time.After(50 * time.Millisecond):
			}
		}
	})
}

// waitTrue polls a JS expression until it is true.
func waitTrue(what, expr string) chromedp.Action {
	return chromedp.ActionFunc(func(ctx context.Context) error {
		for {
			var ok bool
			if err := chromedp.Evaluate(expr, &ok).Do(ctx); err == nil && ok {
				return nil
			}
			select {
			case <-ctx.Done():
				return fmt.Errorf("%s never became true: %w", what, ctx.Err())
			case <-time.After(50 * time.Millisecond):
			}
		}
	})
}

// check runs f after the actions before it in a step: an assertion that
// fails the step with a message in user terms.
func check(f func() error) chromedp.Action {
	return chromedp.ActionFunc(func(context.Context) error { return f() })
}

// byText is an XPath for a visible control by its text, e.g. a button.
func byText(tag, text string) string {
	return fmt.Sprintf(`//%s[normalize-space()=%q]`, tag, text)
}
