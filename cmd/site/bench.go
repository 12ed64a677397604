package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"os"
	"regexp"
	"runtime/pprof"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/pquerna/otp"
	"github.com/pquerna/otp/totp"
	"gorm.io/gorm/clause"

	"github.com/gatehouse/gatehouse/auth"
	"github.com/gatehouse/gatehouse/cmd/site/library"
)

// benchScenario is one changelist URL measured under load.
type benchScenario struct{ name, query string }

// benchScenarios are the changelist views of issue 3's performance target:
// 100 rows, sorted by an indexed column, searched, filtered, paged deep.
var benchScenarios = []benchScenario{
	{"default order (-published)", ""},
	{"sorted by title", "o=title"},
	{"sorted by -isbn", "o=-isbn"},
	{"search title word", "q=lighthouse"},
	{"search author surname", "q=okafor"},
	{"filter genre", "genre=poetry"},
	{"filter in stock=no, sorted", "in_stock=0&o=-published"},
	{"filter author", "author_id=4242"},
	{"filter published this year", "published__gte=2025-01-01&published__lt=2026-01-01"},
	{"page 50", "p=50"},
	{"deep page 5000", "p=5000"},
}

// cmdBenchAdmin measures the library changelist: it starts the site on a
// loopback port, logs a temporary superuser in through the real two-factor
// flow, runs each scenario at the given concurrency for a fixed time and
// prints requests per second and latency percentiles. It removes the user
// afterwards. Nothing listens beyond 127.0.0.1.
func cmdBenchAdmin(e *env, args []string) error {
	fs := e.flags("bench-admin", "")
	dsn := e.dbFlag(fs)
	conc := fs.Int("concurrency", 8, "requests in flight at once")
	dur := fs.Duration("duration", 5*time.Second, "how long each scenario runs (at most 1m)")
	only := fs.String("only", "", "run only the scenarios whose name contains this text")
	cpuprofile := fs.String("cpuprofile", "", "write a CPU profile of the load phase to this file (go tool pprof)")
	logs := fs.Bool("log", false, "keep the access log and warnings on stderr (off: they would measure the terminal)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *conc < 1 || *conc > 256 {
		return errors.New("--concurrency: give 1 to 256")
	}
	if *dur <= 0 || *dur > time.Minute {
		return errors.New("--duration: give a duration up to 1m, e.g. 5s")
	}
	if !*logs {
		defer slog.SetDefault(slog.Default())
		slog.SetDefault(slog.New(slog.NewTextHandler(io.Discard, nil)))
	}
	s, err := e.open(*dsn, false)
	if err != nil {
		return err
	}
	ctx := contextBG()
	var books int64
	if err := s.db.WithContext(ctx).Model(&library.Book{}).Limit(1).Count(&books).Error; err != nil {
		return err
	}
	if books == 0 {
		return errors.New("the library has no books: run `site seed-demo --books 1000000` on this database first")
	}
	var maxID int64
	if err := s.db.WithContext(ctx).Model(&library.Book{}).Select("COALESCE(MAX(id), 0)").Scan(&maxID).Error; err != nil {
		return err
	}

	// A temporary superuser with a random password.
	raw := make([]byte, 16)
	_, _ = rand.Read(raw)
	username, password := "bench-"+hex.EncodeToString(raw[:4]), hex.EncodeToString(raw)
	u, err := s.auth.CreateUser(ctx, auth.NewUser{Username: username, Email: username + "@example.invalid", Password: password, Staff: true, Superuser: true})
	if err != nil {
		return err
	}
	defer func() {
		if err := removeUser(s, u); err != nil {
			fmt.Fprintf(e.stderr, "site bench-admin: could not remove the user %s: %v\n", username, err)
		}
	}()

	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return err
	}
	srv := &http.Server{Handler: s.handler(), ReadHeaderTimeout: 10 * time.Second}
	go srv.Serve(ln) //nolint:errcheck // ends with Shutdown
	defer func() {
		shut, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = srv.Shutdown(shut)
	}()
	base := "http://" + ln.Addr().String()
	c, err := benchLogin(base, username, password, *conc)
	if err != nil {
		return fmt.Errorf("logging in: %w", err)
	}
	defer c.post(base+"/account/logout/", url.Values{}) //nolint:errcheck // best effort: ends the session

	fmt.Fprintf(e.stdout, "Changelist /admin/library/book/ on %s books (max id %d), %s, concurrency %d, %s per scenario, loopback.\n\n",
		thousands(books), maxID, s.db.Dialector.Name(), *conc, *dur)
	if *cpuprofile != "" {
		f, err := os.Create(*cpuprofile)
		if err != nil {
			return err
		}
		defer f.Close()
		if err := pprof.StartCPUProfile(f); err != nil {
			return err
		}
		defer pprof.StopCPUProfile()
	}
	if load := loadAverage(); load > 0.5 {
		fmt.Fprintf(e.stdout, "Note: the load average was %.2f before the run: other processes compete for the CPU, so the latencies below are pessimistic (CPU ms/r much less so).\n\n", load)
	}
	const row = "%-28s %6s %8s %7s %7s %7s %7s %7s %8s %6s  %s\n"
	fmt.Fprintf(e.stdout, row, "scenario", "KB", "requests", "req/s", "p50 ms", "p95 ms", "p99 ms", "max ms", "CPU ms/r", "errors", "query")
	missed := 0
	for _, sc := range benchScenarios {
		if *only != "" && !strings.Contains(sc.name, *only) {
			continue
		}
		target := base + "/admin/library/book/"
		if sc.query != "" {
			target += "?" + sc.query
		}
		size, err := c.check(target)
		if err != nil {
			// A small seed has no page 5000: say so and go on.
			fmt.Fprintf(e.stdout, "%-28s skipped: %v\n", sc.name, err)
			continue
		}
		r := c.load(target, *conc, *dur)
		if r.p(95) > 50*time.Millisecond {
			missed++
		}
		f := func(v float64) string { return strconv.FormatFloat(v, 'f', 1, 64) }
		fmt.Fprintf(e.stdout, row, sc.name, strconv.Itoa(size/1024), strconv.Itoa(r.n), f(r.rps()), f(ms(r.p(50))), f(ms(r.p(95))),
			f(ms(r.p(99))), f(ms(r.p(100))), f(r.cpuPer()), strconv.Itoa(r.errors), cmpOrDash(sc.query))
	}
	fmt.Fprintf(e.stdout, "\nTarget: p95 under 50 ms. Scenarios over it: %d.\n", missed)
	return nil
}

func cmpOrDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

func ms(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }

// loadAverage is the one-minute load average, 0 where /proc has none.
func loadAverage() float64 {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return 0
	}
	f, _ := strconv.ParseFloat(strings.Fields(string(b) + " 0")[0], 64)
	return f
}

// removeUser deletes the benchmark user with its devices and links.
func removeUser(s *site, u *auth.User) error {
	ctx := contextBG()
	if err := s.auth.DisableTwoFactor(ctx, u); err != nil {
		return err
	}
	return s.db.WithContext(ctx).Select(clause.Associations).Delete(u).Error
}

// benchClient is one logged-in browser session shared by the workers.
type benchClient struct{ http *http.Client }

var benchSecretRE = regexp.MustCompile(`id="totp-secret"[^>]*>([^<]+)<`)

// benchLogin logs in through the password step and forced enrolment with
// an authenticator code computed from the shown secret.
func benchLogin(base, username, password string, conns int) (*benchClient, error) {
	jar, _ := cookiejar.New(nil)
	c := &benchClient{http: &http.Client{Jar: jar, Timeout: 30 * time.Second,
		Transport:     &http.Transport{MaxIdleConnsPerHost: conns, MaxConnsPerHost: conns, DisableCompression: true},
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}}
	res, _, err := c.post(base+"/account/login/", url.Values{"login_view-current_step": {"auth"}, "auth-username": {username}, "auth-password": {password}})
	if err != nil {
		return nil, err
	}
	if loc := res.Header.Get("Location"); res.StatusCode != http.StatusSeeOther || loc != "/account/two_factor/setup/" {
		return nil, fmt.Errorf("password step: %d to %q", res.StatusCode, loc)
	}
	_, body, err := c.post(base+"/account/two_factor/setup/", url.Values{"setup_view-current_step": {"welcome"}})
	if err != nil {
		return nil, err
	}
	m := benchSecretRE.FindStringSubmatch(body)
	if m == nil {
		return nil, errors.New("the setup wizard shows no authenticator secret")
	}
	code, err := totp.GenerateCodeCustom(strings.ReplaceAll(m[1], " ", ""), time.Now(), totp.ValidateOpts{Period: 30, Digits: otp.DigitsSix, Algorithm: otp.AlgorithmSHA1})
	if err != nil {
		return nil, err
	}
	res, _, err = c.post(base+"/account/two_factor/setup/", url.Values{"setup_view-current_step": {"generator"}, "generator-token": {code}})
	if err != nil {
		return nil, err
	}
	if loc := res.Header.Get("Location"); res.StatusCode != http.StatusSeeOther || loc != "/account/two_factor/setup/complete/" {
		return nil, fmt.Errorf("authenticator code: %d to %q (is the clock right? codes use the current time)", res.StatusCode, loc)
	}
	return c, nil
}

func (c *benchClient) post(u string, form url.Values) (*http.Response, string, error) {
	res, err := c.http.PostForm(u, form)
	if err != nil {
		return nil, "", err
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	return res, string(b), err
}

// check fetches u once: it must be a changelist with rows. It returns
// the page's size.
func (c *benchClient) check(u string) (int, error) {
	res, err := c.http.Get(u)
	if err != nil {
		return 0, err
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	if res.StatusCode != http.StatusOK {
		return 0, fmt.Errorf("GET %s: %d", u, res.StatusCode)
	}
	if !strings.Contains(string(b), `name="_selected_action"`) {
		return 0, fmt.Errorf("GET %s: the changelist shows no rows", u)
	}
	return len(b), nil
}

// benchResult holds one scenario's sorted latencies.
type benchResult struct {
	lat     []time.Duration
	n       int
	errors  int
	elapsed time.Duration
	cpu     time.Duration
}

// cpuPer is the CPU time per request, in ms: unlike latency, it hardly
// changes when other processes compete for the CPU.
func (r benchResult) cpuPer() float64 { return ms(r.cpu) / float64(max(r.n, 1)) }

func (r benchResult) rps() float64 { return float64(r.n) / r.elapsed.Seconds() }

// p is the q-th percentile (nearest rank) of the successful requests.
func (r benchResult) p(q int) time.Duration {
	if len(r.lat) == 0 {
		return 0
	}
	i := (q*len(r.lat) + 99) / 100
	return r.lat[min(max(i-1, 0), len(r.lat)-1)]
}

// load runs conc workers fetching u until d has passed.
func (c *benchClient) load(u string, conc int, d time.Duration) benchResult {
	var mu sync.Mutex
	var all []time.Duration
	errs := 0
	start := time.Now()
	deadline := start.Add(d)
	cpu0 := cpuTime()
	var wg sync.WaitGroup
	for range conc {
		wg.Go(func() {
			var mine []time.Duration
			bad := 0
			for time.Now().Before(deadline) {
				t0 := time.Now()
				res, err := c.http.Get(u)
				if err == nil {
					_, err = io.Copy(io.Discard, res.Body)
					res.Body.Close()
					if res.StatusCode != http.StatusOK {
						err = fmt.Errorf("status %d", res.StatusCode)
					}
				}
				if err != nil {
					bad++
					continue
				}
				mine = append(mine, time.Since(t0))
			}
			mu.Lock()
			all = append(all, mine...)
			errs += bad
			mu.Unlock()
		})
	}
	wg.Wait()
	slices.Sort(all)
	return benchResult{lat: all, n: len(all), errors: errs, elapsed: time.Since(start), cpu: cpuTime() - cpu0}
}

// cpuTime is the CPU time this process used so far (server and client:
// the client's share is small).
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
