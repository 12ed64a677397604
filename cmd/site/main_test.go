package main

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"flag"
	"io"
	"log/slog"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/pquerna/otp/totp"

	"github.com/gatehouse/gatehouse/auth"
)

// pw is a password every rule accepts.
const pw = "correct horse battery"

func TestMain(m *testing.M) {
	flag.Parse()
	if !testing.Verbose() {
		slog.SetDefault(slog.New(slog.NewTextHandler(io.Discard, nil)))
	}
	os.Exit(m.Run())
}

// fixture is one fresh SQLite database in a temporary folder and the
// environment variables the commands see (never the process environment).
type fixture struct {
	t    *testing.T
	dir  string
	vars map[string]string
}

func newFixture(t *testing.T) *fixture {
	t.Helper()
	dir := t.TempDir()
	return &fixture{t: t, dir: dir, vars: map[string]string{"GATEHOUSE_DB": filepath.Join(dir, "gatehouse.db")}}
}

// with returns a copy of the fixture with more variables set.
func (f *fixture) with(kv ...string) *fixture {
	g := &fixture{t: f.t, dir: f.dir, vars: map[string]string{}}
	for k, v := range f.vars {
		g.vars[k] = v
	}
	for i := 0; i+1 < len(kv); i += 2 {
		g.vars[kv[i]] = kv[i+1]
	}
	return g
}

type result struct {
	code           int
	stdout, stderr string
}

func (f *fixture) env(stdin io.Reader, stdout, stderr io.Writer) *env {
	vars := f.vars
	return &env{stdin: stdin, stdout: stdout, stderr: stderr, getenv: func(k string) string { return vars[k] }}
}

// run runs `site args...` with stdin.
func (f *fixture) run(stdin string, args ...string) result {
	f.t.Helper()
	var out, errb bytes.Buffer
	code := run(f.env(strings.NewReader(stdin), &out, &errb), args)
	return result{code, out.String(), errb.String()}
}

// mustRun runs and fails the test unless the exit status is 0.
func (f *fixture) mustRun(stdin string, args ...string) result {
	f.t.Helper()
	r := f.run(stdin, args...)
	if r.code != 0 {
		f.t.Fatalf("site %s: exit %d\nstdout: %s\nstderr: %s", strings.Join(args, " "), r.code, r.stdout, r.stderr)
	}
	return r
}

// open opens the database the way the commands do.
func (f *fixture) open() *site {
	f.t.Helper()
	var errb bytes.Buffer
	s, err := f.env(strings.NewReader(""), io.Discard, &errb).open(f.vars["GATEHOUSE_DB"], false)
	if err != nil {
		f.t.Fatalf("open: %v (%s)", err, errb.String())
	}
	f.t.Cleanup(func() {
		if db, err := s.db.DB(); err == nil {
			db.Close()
		}
	})
	return s
}

// user returns the stored user, nil when there is none.
func (f *fixture) user(name string) *auth.User {
	f.t.Helper()
	u, err := f.open().auth.UserByName(context.Background(), name)
	if auth.IsNoUser(err) {
		return nil
	}
	if err != nil {
		f.t.Fatalf("user %s: %v", name, err)
	}
	return u
}

// createUser makes a user with pw through `site createuser --noinput`.
func (f *fixture) createUser(name string, flags ...string) {
	f.t.Helper()
	args := append([]string{"createuser", "--noinput", "--username", name, "--email", name + "@example.com"}, flags...)
	f.with("GATEHOUSE_SUPERUSER_PASSWORD", pw).mustRun("", args...)
}

// --- 1. help and dispatch ---

func TestHelp(t *testing.T) {
	if len(commands) == 0 {
		t.Fatal("no commands")
	}
	for name := range commands {
		for _, h := range []string{"--help", "-h"} {
			t.Run(name+h, func(t *testing.T) {
				t.Parallel()
				f := newFixture(t)
				r := f.run("", name, h)
				if r.code != 0 {
					t.Fatalf("exit %d, stderr %q", r.code, r.stderr)
				}
				if !strings.Contains(r.stdout, "Usage: site "+name) {
					t.Errorf("stdout lacks %q:\n%s", "Usage: site "+name, r.stdout)
				}
				// i18n works on the locale files only: no database.
				if !strings.Contains(r.stdout, commands[name].summary) || (name != "i18n" && !strings.Contains(r.stdout, "GATEHOUSE_DB")) {
					t.Errorf("help lacks the summary or the GATEHOUSE_DB flag:\n%s", r.stdout)
				}
				if r.stderr != "" {
					t.Errorf("help wrote to stderr: %q", r.stderr)
				}
				if _, err := os.Stat(f.vars["GATEHOUSE_DB"]); err == nil {
					t.Errorf("--help opened the database")
				}
			})
		}
	}

	for _, arg := range []string{"--help", "-h", "help"} {
		t.Run("site "+arg, func(t *testing.T) {
			r := newFixture(t).run("", arg)
			if r.code != 0 {
				t.Fatalf("exit %d", r.code)
			}
			for name, c := range commands {
				if !strings.Contains(r.stdout, name) || !strings.Contains(r.stdout, c.summary) {
					t.Errorf("usage does not list %s:\n%s", name, r.stdout)
				}
			}
		})
	}

	t.Run("unknown command", func(t *testing.T) {
		r := newFixture(t).run("", "frobnicate", "x")
		if r.code != 2 {
			t.Fatalf("want exit 2, got %d", r.code)
		}
		if !strings.Contains(r.stderr, `"frobnicate"`) || !strings.Contains(r.stderr, "Usage: site") {
			t.Errorf("stderr should name the command and show the usage: %q", r.stderr)
		}
	})

	t.Run("unknown flag", func(t *testing.T) {
		r := newFixture(t).run("", "migrate", "--frobnicate")
		if r.code == 0 || !strings.Contains(r.stderr, "frobnicate") {
			t.Fatalf("want a failure naming the flag, got %d %q", r.code, r.stderr)
		}
	})
}

// --- 2. createsuperuser / 3. createuser ---

func TestCreateUsers(t *testing.T) {
	type check struct {
		name         string // "" : no user expected
		staff, super bool
		email        string
	}
	cases := []struct {
		name       string
		vars       []string
		stdin      string
		args       []string
		code       int
		stdout     string   // substring of stdout
		stderr     []string // substrings of stderr
		want       check
		noUser     string // this user must not exist afterwards
		preexisted string // create this user first
	}{
		{
			name: "superuser noinput", vars: []string{"GATEHOUSE_SUPERUSER_PASSWORD", pw},
			args: []string{"createsuperuser", "--noinput", "--username", "admin", "--email", "admin@example.com"},
			code: 0, stdout: `Superuser "admin" created`,
			want: check{name: "admin", staff: true, super: true, email: "admin@example.com"},
		},
		{
			name: "superuser noinput without password variable",
			args: []string{"createsuperuser", "--noinput", "--username", "admin"},
			code: 1, stderr: []string{"GATEHOUSE_SUPERUSER_PASSWORD"}, noUser: "admin",
		},
		{
			name: "superuser noinput with a weak password", vars: []string{"GATEHOUSE_SUPERUSER_PASSWORD", "short"},
			args: []string{"createsuperuser", "--noinput", "--username", "admin"},
			code: 1, stderr: []string{"password"}, noUser: "admin",
		},
		{
			name: "superuser noinput without username", vars: []string{"GATEHOUSE_SUPERUSER_PASSWORD", pw},
			args: []string{"createsuperuser", "--noinput"},
			code: 1, stderr: []string{"--username"},
		},
		{
			name: "superuser interactive", stdin: "admin\nadmin@example.com\n" + pw + "\n" + pw + "\n",
			args: []string{"createsuperuser"},
			code: 0, stdout: `Superuser "admin" created`, stderr: []string{"Username: ", "Password: ", "Password (again): "},
			want: check{name: "admin", staff: true, super: true, email: "admin@example.com"},
		},
		{
			name: "superuser interactive with CRLF", stdin: "admin\r\n\r\n" + pw + "\r\n" + pw + "\r\n",
			args: []string{"createsuperuser"},
			code: 0, want: check{name: "admin", staff: true, super: true},
		},
		{
			name: "superuser interactive, username flag", stdin: "\n" + pw + "\n" + pw + "\n",
			args: []string{"createsuperuser", "--username", "root"},
			code: 0, want: check{name: "root", staff: true, super: true},
		},
		{
			name:  "superuser mismatched passwords three times",
			stdin: "admin\n\n" + strings.Repeat(pw+"\n"+pw+"x\n", 3),
			args:  []string{"createsuperuser"},
			code:  1, stderr: []string{"do not match", "3 tries"}, noUser: "admin",
		},
		{
			name:  "superuser too short, then good",
			stdin: "admin\n\nshort\nshort\n" + pw + "\n" + pw + "\n",
			args:  []string{"createsuperuser"},
			code:  0, stderr: []string{"12 characters"},
			want: check{name: "admin", staff: true, super: true},
		},
		{
			name:  "superuser too short three times",
			stdin: "admin\n\n" + strings.Repeat("short\nshort\n", 3),
			args:  []string{"createsuperuser"},
			code:  1, stderr: []string{"12 characters"}, noUser: "admin",
		},
		{
			name:  "superuser password is the username",
			stdin: "administrator\n\nAdministrator\nAdministrator\n",
			args:  []string{"createsuperuser"},
			code:  1, stderr: []string{"cannot be the username"}, noUser: "administrator",
		},
		{
			name:  "superuser all digits",
			stdin: "admin\n\n123456789012\n123456789012\n",
			args:  []string{"createsuperuser"},
			code:  1, stderr: []string{"only digits"}, noUser: "admin",
		},
		{
			name: "superuser stdin ends", stdin: "",
			args: []string{"createsuperuser"},
			code: 1, stderr: []string{"standard input ended"},
		},
		{
			name: "superuser stdin ends at the password", stdin: "admin\n\n",
			args: []string{"createsuperuser"},
			code: 1, stderr: []string{"standard input ended"}, noUser: "admin",
		},
		{
			name: "createuser --staff", vars: []string{"GATEHOUSE_SUPERUSER_PASSWORD", pw},
			args: []string{"createuser", "--noinput", "--username", "ana", "--email", "ana@example.com", "--staff"},
			code: 0, stdout: `Staff user "ana" created`,
			want: check{name: "ana", staff: true, email: "ana@example.com"},
		},
		{
			name: "createuser plain", vars: []string{"GATEHOUSE_SUPERUSER_PASSWORD", pw},
			args: []string{"createuser", "--noinput", "--username", "bob"},
			code: 0, stdout: `User "bob" created`,
			want: check{name: "bob"},
		},
		{
			name: "createuser interactive --staff", stdin: "carl\ncarl@example.com\n" + pw + "\n" + pw + "\n",
			args: []string{"createuser", "--staff"},
			code: 0, want: check{name: "carl", staff: true, email: "carl@example.com"},
		},
		{
			name: "createuser has no --superuser flag", vars: []string{"GATEHOUSE_SUPERUSER_PASSWORD", pw},
			args: []string{"createuser", "--noinput", "--username", "eve", "--superuser"},
			code: 1, stderr: []string{"superuser"}, noUser: "eve",
		},
		{
			name: "createuser duplicate", vars: []string{"GATEHOUSE_SUPERUSER_PASSWORD", pw}, preexisted: "ana",
			args: []string{"createuser", "--noinput", "--username", "ana"},
			code: 1, stderr: []string{"already taken", "ana"},
		},
		{
			name: "createsuperuser duplicate", vars: []string{"GATEHOUSE_SUPERUSER_PASSWORD", pw}, preexisted: "ana",
			args: []string{"createsuperuser", "--noinput", "--username", "ana"},
			code: 1, stderr: []string{"already taken", "ana"},
		},
		{
			name: "createuser bad username", vars: []string{"GATEHOUSE_SUPERUSER_PASSWORD", pw},
			args: []string{"createuser", "--noinput", "--username", "a b"},
			code: 1, stderr: []string{"username"},
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			f := newFixture(t)
			if tc.preexisted != "" {
				f.createUser(tc.preexisted)
			}
			r := f.with(tc.vars...).run(tc.stdin, tc.args...)
			if r.code != tc.code {
				t.Fatalf("exit: want %d, got %d\nstdout: %s\nstderr: %s", tc.code, r.code, r.stdout, r.stderr)
			}
			if tc.stdout != "" && !strings.Contains(r.stdout, tc.stdout) {
				t.Errorf("stdout lacks %q: %q", tc.stdout, r.stdout)
			}
			for _, s := range tc.stderr {
				if !strings.Contains(r.stderr, s) {
					t.Errorf("stderr lacks %q: %q", s, r.stderr)
				}
			}
			if tc.noUser != "" && f.user(tc.noUser) != nil {
				t.Errorf("user %s was created", tc.noUser)
			}
			if tc.want.name == "" {
				return
			}
			u := f.user(tc.want.name)
			if u == nil {
				t.Fatalf("user %s not created", tc.want.name)
			}
			if u.IsStaff != tc.want.staff || u.IsSuperuser != tc.want.super || !u.IsActive {
				t.Errorf("%s: staff=%v superuser=%v active=%v, want staff=%v superuser=%v active", u.Username, u.IsStaff, u.IsSuperuser, u.IsActive, tc.want.staff, tc.want.super)
			}
			if u.Email != tc.want.email {
				t.Errorf("email: want %q, got %q", tc.want.email, u.Email)
			}
			if strings.Contains(u.Password, pw) || !strings.HasPrefix(u.Password, "$argon2id$") {
				t.Errorf("password is not an argon2id hash: %q", u.Password)
			}
			if err := f.open().auth.Hasher().Check(context.Background(), pw, u.Password); err != nil {
				t.Errorf("the password does not check: %v", err)
			}
		})
	}
}

// --- 4. changepassword ---

func TestChangePassword(t *testing.T) {
	const newPW = "another long passphrase"
	ctx := context.Background()

	t.Run("changes the password and the epoch", func(t *testing.T) {
		t.Parallel()
		f := newFixture(t)
		f.createUser("ana")
		before := f.user("ana")
		r := f.mustRun("short\nshort\n"+newPW+"\n"+newPW+"\n", "changepassword", "ana")
		if !strings.Contains(r.stdout, `Password changed for "ana"`) || !strings.Contains(r.stderr, "12 characters") {
			t.Errorf("stdout %q stderr %q", r.stdout, r.stderr)
		}
		s := f.open()
		after, err := s.auth.UserByName(ctx, "ana")
		if err != nil {
			t.Fatal(err)
		}
		if err := s.auth.Hasher().Check(ctx, newPW, after.Password); err != nil {
			t.Errorf("the new password does not check: %v", err)
		}
		if err := s.auth.Hasher().Check(ctx, pw, after.Password); err == nil {
			t.Errorf("the old password still checks")
		}
		if after.Epoch <= before.Epoch {
			t.Errorf("credential epoch did not grow: %d -> %d", before.Epoch, after.Epoch)
		}
	})

	cases := []struct {
		name   string
		stdin  string
		args   []string
		code   int
		stderr []string
	}{
		{"unknown user", newPW + "\n" + newPW + "\n", []string{"changepassword", "ghost"}, 1, []string{"ghost"}},
		{"no argument", newPW + "\n" + newPW + "\n", []string{"changepassword"}, 1, []string{"USERNAME"}},
		{"two arguments", newPW + "\n" + newPW + "\n", []string{"changepassword", "ana", "bob"}, 1, []string{"exactly one"}},
		{"mismatch three times", strings.Repeat(newPW+"\n"+pw+"\n", 3), []string{"changepassword", "ana"}, 1, []string{"do not match", "3 tries"}},
		{"stdin ends", "", []string{"changepassword", "ana"}, 1, []string{"standard input ended"}},
		{"password is the username", "ANA-ana-ANA!\nANA-ana-ANA!\n", []string{"changepassword", "ana"}, 0, nil},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			f := newFixture(t)
			f.createUser("ana")
			before := f.user("ana")
			r := f.run(tc.stdin, tc.args...)
			if r.code != tc.code {
				t.Fatalf("exit: want %d, got %d (stderr %q)", tc.code, r.code, r.stderr)
			}
			for _, s := range tc.stderr {
				if !strings.Contains(r.stderr, s) {
					t.Errorf("stderr lacks %q: %q", s, r.stderr)
				}
			}
			if tc.code != 0 {
				after := f.user("ana")
				if after.Password != before.Password || after.Epoch != before.Epoch {
					t.Errorf("a failed changepassword changed the user")
				}
			}
		})
	}
}

// --- 5. two-factor-status / two-factor-disable ---

var secretRE = regexp.MustCompile(`id="totp-secret"[^>]*>([^<]+)<`)

// browser is a client with a cookie jar that does not follow redirects.
type browser struct {
	t    *testing.T
	base string
	http *http.Client
}

// Each request gets a handler of its own from mk (the sessions live in the
// database, so nothing is lost): the auth handlers hand the pooled
// *gin.Context to database/sql as a context.Context, whose goroutines may
// read it after the engine has recycled it for the next request, which the
// race detector reports against the auth package, not these commands.
func newBrowser(t *testing.T, mk func() http.Handler) *browser {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { mk().ServeHTTP(w, r) }))
	t.Cleanup(srv.Close)
	jar, _ := cookiejar.New(nil)
	return &browser{t: t, base: srv.URL, http: &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error {
		return http.ErrUseLastResponse
	}}}
}

type response struct {
	status int
	header http.Header
	body   string
}

func (b *browser) do(method, path string, form url.Values) response {
	b.t.Helper()
	var body io.Reader
	if form != nil {
		body = strings.NewReader(form.Encode())
	}
	req, err := http.NewRequest(method, b.base+path, body)
	if err != nil {
		b.t.Fatal(err)
	}
	if form != nil {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	res, err := b.http.Do(req)
	if err != nil {
		b.t.Fatalf("%s %s: %v", method, path, err)
	}
	defer res.Body.Close()
	data, _ := io.ReadAll(res.Body)
	return response{res.StatusCode, res.Header, string(data)}
}

func (b *browser) get(path string) response { b.t.Helper(); return b.do(http.MethodGet, path, nil) }

func (b *browser) post(path string, kv ...string) response {
	b.t.Helper()
	f := url.Values{}
	for i := 0; i+1 < len(kv); i += 2 {
		f.Add(kv[i], kv[i+1])
	}
	return b.do(http.MethodPost, path, f)
}

// enrol logs username in over HTTP and confirms an authenticator app.
func enrol(t *testing.T, f *fixture, username string) {
	t.Helper()
	b := newBrowser(t, f.open().handler)
	r := b.post("/account/login/", "login_view-current_step", "auth", "auth-username", username, "auth-password", pw)
	if r.status != http.StatusSeeOther || r.header.Get("Location") != "/account/two_factor/setup/" {
		t.Fatalf("password step: want 303 to the setup, got %d %q", r.status, r.header.Get("Location"))
	}
	r = b.post("/account/two_factor/setup/", "setup_view-current_step", "welcome")
	m := secretRE.FindStringSubmatch(r.body)
	if m == nil {
		t.Fatalf("no #totp-secret: %d %.500s", r.status, r.body)
	}
	code, err := totp.GenerateCode(strings.ReplaceAll(m[1], " ", ""), time.Now())
	if err != nil {
		t.Fatal(err)
	}
	r = b.post("/account/two_factor/setup/", "setup_view-current_step", "generator", "generator-token", code)
	if r.status != http.StatusSeeOther || r.header.Get("Location") != "/account/two_factor/setup/complete/" {
		t.Fatalf("token step: want 303 to setup complete, got %d %q", r.status, r.header.Get("Location"))
	}
}

func TestTwoFactor(t *testing.T) {
	f := newFixture(t)
	f.createUser("a", "--staff")
	f.createUser("b")

	steps := []struct {
		name   string
		before func(t *testing.T)
		args   []string
		code   int
		stdout string // exact
		stderr []string
	}{
		{name: "status, nobody enrolled", args: []string{"two-factor-status", "a", "b"}, stdout: "a: disabled\nb: disabled\n"},
		{name: "status after enrolment", before: func(t *testing.T) { enrol(t, f, "a") },
			args: []string{"two-factor-status", "a", "b"}, stdout: "a: enabled\nb: disabled\n"},
		{name: "status with an unknown user", args: []string{"two-factor-status", "a", "ghost", "b"}, code: 1,
			stdout: "a: enabled\nb: disabled\n", stderr: []string{`"ghost"`}},
		{name: "status without users", args: []string{"two-factor-status"}, code: 1, stderr: []string{"USERNAME"}},
		{name: "disable an unknown user", args: []string{"two-factor-disable", "ghost"}, code: 1, stderr: []string{`"ghost"`}},
		{name: "still enabled", args: []string{"two-factor-status", "a"}, stdout: "a: enabled\n"},
		{name: "disable", args: []string{"two-factor-disable", "a"}, stdout: "a: disabled\n"},
		{name: "status after disable", args: []string{"two-factor-status", "a", "b"}, stdout: "a: disabled\nb: disabled\n"},
		{name: "disable without devices", args: []string{"two-factor-disable", "b", "ghost", "a"}, code: 1,
			stdout: "b: disabled\na: disabled\n", stderr: []string{`"ghost"`}},
		{name: "disable without users", args: []string{"two-factor-disable"}, code: 1, stderr: []string{"USERNAME"}},
		{name: "enrol again after disable", before: func(t *testing.T) { enrol(t, f, "a") },
			args: []string{"two-factor-status", "a"}, stdout: "a: enabled\n"},
	}
	var epoch int64
	for _, st := range steps {
		if !t.Run(st.name, func(t *testing.T) {
			if st.before != nil {
				st.before(t)
			}
			if st.args[0] == "two-factor-disable" {
				if u := f.user("a"); u != nil {
					epoch = u.Epoch
				}
			}
			r := f.run("", st.args...)
			if r.code != st.code {
				t.Fatalf("exit: want %d, got %d (stderr %q)", st.code, r.code, r.stderr)
			}
			if r.stdout != st.stdout {
				t.Errorf("stdout: want %q, got %q", st.stdout, r.stdout)
			}
			for _, s := range st.stderr {
				if !strings.Contains(r.stderr, s) {
					t.Errorf("stderr lacks %q: %q", s, r.stderr)
				}
			}
			if st.code == 0 && r.stderr != "" {
				t.Errorf("unexpected stderr: %q", r.stderr)
			}
			if st.name == "disable" {
				if u := f.user("a"); u.Epoch <= epoch {
					t.Errorf("disable did not move the credential epoch: %d -> %d", epoch, u.Epoch)
				}
			}
		}) {
			return // later steps depend on this one
		}
	}
}

// --- 6. configuration errors ---

func TestConfigErrors(t *testing.T) {
	const key = "0123456789abcdef0123456789abcdef-key"
	cases := []struct {
		name string
		vars []string
		args []string // default: migrate
		want string
	}{
		{"totp digits 7", []string{"GATEHOUSE_TOTP_DIGITS", "7"}, nil, "GATEHOUSE_TOTP_DIGITS"},
		{"totp digits abc", []string{"GATEHOUSE_TOTP_DIGITS", "abc"}, nil, "GATEHOUSE_TOTP_DIGITS"},
		{"login timeout abc", []string{"GATEHOUSE_LOGIN_TIMEOUT", "abc"}, nil, "GATEHOUSE_LOGIN_TIMEOUT"},
		{"login timeout negative", []string{"GATEHOUSE_LOGIN_TIMEOUT", "-1"}, nil, "GATEHOUSE_LOGIN_TIMEOUT"},
		{"shutdown timeout", []string{"GATEHOUSE_SHUTDOWN_TIMEOUT", "0"}, []string{"serve", "--addr", "127.0.0.1:0"}, "GATEHOUSE_SHUTDOWN_TIMEOUT"},
		{"reauth window abc", []string{"GATEHOUSE_REAUTH_WINDOW", "abc"}, nil, "GATEHOUSE_REAUTH_WINDOW"},
		{"session idle NaN", []string{"GATEHOUSE_SESSION_IDLE", "NaN"}, nil, "GATEHOUSE_SESSION_IDLE"},
		{"session idle Inf", []string{"GATEHOUSE_SESSION_IDLE", "Inf"}, nil, "GATEHOUSE_SESSION_IDLE"},
		{"session idle huge", []string{"GATEHOUSE_SESSION_IDLE", "1e300"}, nil, "GATEHOUSE_SESSION_IDLE"},
		{"session idle above absolute", []string{"GATEHOUSE_SESSION_IDLE", "86400"}, nil, "GATEHOUSE_SESSION_IDLE"},
		{"failure cap 0", []string{"GATEHOUSE_ACCOUNT_FAILURE_CAP", "0"}, nil, "GATEHOUSE_ACCOUNT_FAILURE_CAP"},
		{"failure cap 101", []string{"GATEHOUSE_ACCOUNT_FAILURE_CAP", "101"}, nil, "GATEHOUSE_ACCOUNT_FAILURE_CAP"},
		{"cookie secure maybe", []string{"GATEHOUSE_COOKIE_SECURE", "maybe"}, nil, "GATEHOUSE_COOKIE_SECURE"},
		{"hsts max age negative", []string{"GATEHOUSE_HSTS_MAX_AGE", "-1"}, nil, "GATEHOUSE_HSTS_MAX_AGE"},
		{"hsts max age fraction", []string{"GATEHOUSE_HSTS_MAX_AGE", "1.5"}, nil, "GATEHOUSE_HSTS_MAX_AGE"},
		{"hsts max age abc", []string{"GATEHOUSE_HSTS_MAX_AGE", "abc"}, nil, "GATEHOUSE_HSTS_MAX_AGE"},
		{"trusted proxy not an address", []string{"GATEHOUSE_TRUSTED_PROXIES", "10.0.0.1,proxy.example"}, nil, "GATEHOUSE_TRUSTED_PROXIES"},
		{"session store memcached", []string{"GATEHOUSE_SESSION_STORE", "memcached://x"}, nil, "GATEHOUSE_SESSION_STORE"},
		{"session store bad redis URL", []string{"GATEHOUSE_SESSION_STORE", "redis://x:notaport/abc"}, nil, "GATEHOUSE_SESSION_STORE"},
		{"secret key short", []string{"GATEHOUSE_SECRET_KEY", "short"}, nil, "GATEHOUSE_SECRET_KEY"},
		{"postgres without secret key", []string{"GATEHOUSE_DB", "postgres://nobody@127.0.0.1:1/x"}, nil, "GATEHOUSE_SECRET_KEY"},
		{"mysql without secret key", []string{"GATEHOUSE_DB", "mysql://nobody@tcp(127.0.0.1:1)/x"}, nil, "GATEHOUSE_SECRET_KEY"},
		{"sqlite URI without secret key", []string{"GATEHOUSE_DB", "file:x.db?mode=memory"}, nil, "GATEHOUSE_SECRET_KEY"},
		{"unreachable postgres", []string{"GATEHOUSE_DB", "postgres://nobody@127.0.0.1:1/x", "GATEHOUSE_SECRET_KEY", key}, nil, "GATEHOUSE_DB"},
		{"empty --db", nil, []string{"migrate", "--db", ""}, "GATEHOUSE_DB"},
		{"createsuperuser", []string{"GATEHOUSE_TOTP_DIGITS", "7", "GATEHOUSE_SUPERUSER_PASSWORD", pw},
			[]string{"createsuperuser", "--noinput", "--username", "admin"}, "GATEHOUSE_TOTP_DIGITS"},
		{"two-factor-status", []string{"GATEHOUSE_LOGIN_TIMEOUT", "abc"}, []string{"two-factor-status", "a"}, "GATEHOUSE_LOGIN_TIMEOUT"},
		{"serve", []string{"GATEHOUSE_TOTP_DIGITS", "7"}, []string{"serve", "--addr", "127.0.0.1:0"}, "GATEHOUSE_TOTP_DIGITS"},
		{"serve bad address", []string{"GATEHOUSE_ADDR", "127.0.0.1:99999"}, []string{"serve"}, "GATEHOUSE_ADDR"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			f := newFixture(t)
			wd, _ := os.Getwd()
			args := tc.args
			if args == nil {
				args = []string{"migrate"}
			}
			r := f.with(tc.vars...).run("", args...)
			if r.code != 1 {
				t.Fatalf("exit: want 1, got %d (stdout %q stderr %q)", r.code, r.stdout, r.stderr)
			}
			if !strings.Contains(r.stderr, tc.want) {
				t.Errorf("stderr does not name %s: %q", tc.want, r.stderr)
			}
			if _, err := os.Stat(filepath.Join(wd, "gatehouse.secret")); err == nil {
				t.Errorf("a key file was written into the working folder")
			}
			if _, err := os.Stat(filepath.Join(f.dir, "gatehouse.secret")); err == nil && tc.name != "serve bad address" {
				t.Errorf("a start that fails on its settings generated a key file")
			}
		})
	}

	t.Run("valid settings", func(t *testing.T) {
		t.Parallel()
		f := newFixture(t).with("GATEHOUSE_TOTP_DIGITS", "8", "GATEHOUSE_LOGIN_TIMEOUT", "0", "GATEHOUSE_SESSION_IDLE", "90.5",
			"GATEHOUSE_COOKIE_SECURE", "true", "GATEHOUSE_SESSION_STORE", "db", "GATEHOUSE_SECRET_KEY", key,
			"GATEHOUSE_TRUSTED_PROXIES", "10.0.0.1, 10.1.0.0/16", "GATEHOUSE_TOTP_ISSUER", "Example", "GATEHOUSE_HSTS_MAX_AGE", "600")
		f.mustRun("", "migrate")
		cfg := f.open().auth.Config()
		if cfg.TOTPDigits != 8 || cfg.LoginTimeout != 0 || cfg.SessionIdle != 90500*time.Millisecond || !cfg.CookieSecure ||
			string(cfg.SecretKey) != key || len(cfg.TrustedProxies) != 2 || cfg.TOTPIssuer != "Example" || cfg.HSTSMaxAge != 600*time.Second {
			t.Errorf("settings not applied: %+v", cfg)
		}
		if _, err := os.Stat(filepath.Join(f.dir, "gatehouse.secret")); err == nil {
			t.Errorf("a key file was written although GATEHOUSE_SECRET_KEY is set")
		}
	})
}

// --- 7. generated secret key ---

func TestSecretKeyFile(t *testing.T) {
	t.Run("generated once and reused", func(t *testing.T) {
		t.Parallel()
		f := newFixture(t)
		path := filepath.Join(f.dir, "gatehouse.secret")
		r := f.mustRun("", "migrate")
		if !strings.Contains(r.stderr, "Generated a secret key") || !strings.Contains(r.stderr, path) {
			t.Errorf("first start does not say it generated the key in %s: %q", path, r.stderr)
		}
		if !strings.Contains(r.stdout, "Database is up to date.") {
			t.Errorf("stdout: %q", r.stdout)
		}
		fi, err := os.Stat(path)
		if err != nil {
			t.Fatal(err)
		}
		if fi.Mode().Perm() != 0o600 {
			t.Errorf("key file mode: want 0600, got %o", fi.Mode().Perm())
		}
		first, _ := os.ReadFile(path)
		if len(strings.TrimSpace(string(first))) < 32 {
			t.Errorf("key too short: %q", first)
		}

		r = f.mustRun("", "migrate")
		if strings.Contains(r.stderr, "Generated") {
			t.Errorf("second start generated again: %q", r.stderr)
		}
		second, _ := os.ReadFile(path)
		if !bytes.Equal(first, second) {
			t.Errorf("the key file changed")
		}
		if got := f.open().auth.Config().SecretKey; string(got) != strings.TrimSpace(string(first)) {
			t.Errorf("the service does not use the key file")
		}
	})

	t.Run("folder that does not exist yet", func(t *testing.T) {
		t.Parallel()
		f := newFixture(t)
		f.vars["GATEHOUSE_DB"] = filepath.Join(f.dir, "a", "b", "site.db")
		r := f.mustRun("", "migrate")
		if !strings.Contains(r.stderr, "Generated a secret key") {
			t.Errorf("stderr: %q", r.stderr)
		}
		if _, err := os.Stat(filepath.Join(f.dir, "a", "b", "gatehouse.secret")); err != nil {
			t.Errorf("no key file next to the database: %v", err)
		}
	})

	t.Run("db flag beats GATEHOUSE_DB", func(t *testing.T) {
		t.Parallel()
		f := newFixture(t)
		other := filepath.Join(f.dir, "other", "x.db")
		f.mustRun("", "migrate", "--db", other)
		if _, err := os.Stat(other); err != nil {
			t.Errorf("--db ignored: %v", err)
		}
		if _, err := os.Stat(f.vars["GATEHOUSE_DB"]); err == nil {
			t.Errorf("GATEHOUSE_DB used although --db was given")
		}
	})

	t.Run("too short key file", func(t *testing.T) {
		t.Parallel()
		f := newFixture(t)
		if err := os.WriteFile(filepath.Join(f.dir, "gatehouse.secret"), []byte("short\n"), 0o600); err != nil {
			t.Fatal(err)
		}
		r := f.run("", "migrate")
		if r.code != 1 || !strings.Contains(r.stderr, "GATEHOUSE_SECRET_KEY") {
			t.Errorf("want exit 1 naming GATEHOUSE_SECRET_KEY, got %d %q", r.code, r.stderr)
		}
	})

	t.Run("concurrent first starts agree", func(t *testing.T) {
		t.Parallel()
		f := newFixture(t)
		const n = 4
		keys := make([]string, n)
		var wg sync.WaitGroup
		for i := range n {
			wg.Add(1)
			go func() {
				defer wg.Done()
				var errb bytes.Buffer
				k, err := f.env(nil, io.Discard, &errb).secretKey(f.vars["GATEHOUSE_DB"])
				if err != nil {
					t.Errorf("secretKey: %v", err)
				}
				keys[i] = string(k)
			}()
		}
		wg.Wait()
		file, _ := os.ReadFile(filepath.Join(f.dir, "gatehouse.secret"))
		for i, k := range keys {
			if k != strings.TrimSpace(string(file)) {
				t.Errorf("start %d uses a key that is not in the file", i)
			}
		}
	})
}

// --- 8. first-superuser link ---

func TestFirstSuperuserLink(t *testing.T) {
	ctx := context.Background()
	tokenOf := func(t *testing.T, link string) string {
		u, err := url.Parse(link)
		if err != nil || u.Path != "/account/first-superuser/" || u.Query().Get("token") == "" {
			t.Fatalf("bad link %q", link)
		}
		return u.Query().Get("token")
	}
	form := func(token, user, p1, p2 string) []string {
		return []string{"token", token, "username", user, "email", user + "@example.com", "password1", p1, "password2", p2}
	}

	t.Run("creates the first superuser once", func(t *testing.T) {
		t.Parallel()
		f := newFixture(t)
		s := f.open()
		link, err := s.auth.BootstrapLink(ctx)
		if err != nil {
			t.Fatal(err)
		}
		token := tokenOf(t, link)

		// Stored hashed, never in clear.
		var hashes []string
		if err := s.db.Raw("SELECT hash FROM auth_bootstrap_token").Scan(&hashes).Error; err != nil {
			t.Fatal(err)
		}
		sum := sha256.Sum256([]byte(token))
		if len(hashes) != 1 || hashes[0] != hex.EncodeToString(sum[:]) {
			t.Errorf("stored %q, want only the SHA-256 of the token", hashes)
		}

		b := newBrowser(t, s.handler)
		r := b.get(link)
		if r.status != http.StatusOK || !strings.Contains(r.body, `name="password1"`) || !strings.Contains(r.body, `value="`+token+`"`) {
			t.Fatalf("GET link: want 200 with the form, got %d %.300s", r.status, r.body)
		}
		if cc := r.header.Get("Cache-Control"); !strings.Contains(cc, "no-store") {
			t.Errorf("Cache-Control: want no-store, got %q", cc)
		}
		if rp := r.header.Get("Referrer-Policy"); rp != "no-referrer" {
			t.Errorf("Referrer-Policy: want no-referrer, got %q", rp)
		}

		// A form error keeps the link alive.
		r = b.post("/account/first-superuser/", form(token, "root", pw, pw+"x")...)
		if r.status != http.StatusOK || !strings.Contains(r.body, `name="password1"`) {
			t.Fatalf("mismatched passwords: want the form again, got %d", r.status)
		}
		r = b.post("/account/first-superuser/", form(token, "root", "short", "short")...)
		if r.status != http.StatusOK || !strings.Contains(r.body, "12") {
			t.Fatalf("short password: want the form with the rule, got %d", r.status)
		}

		r = b.post("/account/first-superuser/", form(token, "root", pw, pw)...)
		if r.status != http.StatusSeeOther || r.header.Get("Location") != "/account/login/" {
			t.Fatalf("POST: want 303 to /account/login/, got %d %q", r.status, r.header.Get("Location"))
		}
		u, err := s.auth.UserByName(ctx, "root")
		if err != nil {
			t.Fatal(err)
		}
		if !u.IsSuperuser || !u.IsStaff || !u.IsActive || u.Email != "root@example.com" {
			t.Errorf("user: %+v", u)
		}
		if err := s.auth.Hasher().Check(ctx, pw, u.Password); err != nil {
			t.Errorf("password: %v", err)
		}

		// Used: gone.
		if r := b.get(link); r.status != http.StatusNotFound {
			t.Errorf("reused link GET: want 404, got %d", r.status)
		}
		if r := b.post("/account/first-superuser/", form(token, "root2", pw, pw)...); r.status != http.StatusNotFound {
			t.Errorf("reused link POST: want 404, got %d", r.status)
		}
		if _, err := s.auth.UserByName(ctx, "root2"); !auth.IsNoUser(err) {
			t.Errorf("a reused link created a user")
		}

		// A superuser exists: a fresh link does not work either.
		link2, err := s.auth.BootstrapLink(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if r := b.get(link2); r.status != http.StatusNotFound {
			t.Errorf("link with a superuser present: want 404, got %d", r.status)
		}
		if r := b.post("/account/first-superuser/", form(tokenOf(t, link2), "root3", pw, pw)...); r.status != http.StatusNotFound {
			t.Errorf("POST with a superuser present: want 404, got %d", r.status)
		}
	})

	t.Run("createsuperuser closes the link", func(t *testing.T) {
		t.Parallel()
		f := newFixture(t)
		s := f.open()
		link, err := s.auth.BootstrapLink(ctx)
		if err != nil {
			t.Fatal(err)
		}
		f.with("GATEHOUSE_SUPERUSER_PASSWORD", pw).mustRun("", "createsuperuser", "--noinput", "--username", "admin")
		if r := newBrowser(t, s.handler).get(link); r.status != http.StatusNotFound {
			t.Errorf("want 404, got %d", r.status)
		}
	})

	t.Run("bad links", func(t *testing.T) {
		t.Parallel()
		f := newFixture(t)
		s := f.open()
		real, err := s.auth.BootstrapLink(ctx)
		if err != nil {
			t.Fatal(err)
		}
		expired, err := s.auth.BootstrapLink(ctx)
		if err != nil {
			t.Fatal(err)
		}
		// Age one link past its hour (the real clock cannot move).
		sum := sha256.Sum256([]byte(tokenOf(t, expired)))
		if err := s.db.Exec("UPDATE auth_bootstrap_token SET expires_at = ? WHERE hash = ?", time.Now().Add(-time.Minute), hex.EncodeToString(sum[:])).Error; err != nil {
			t.Fatal(err)
		}
		b := newBrowser(t, s.handler)
		for _, path := range []string{
			"/account/first-superuser/?token=madeupmadeupmadeupmadeupmadeupma",
			"/account/first-superuser/",
			"/account/first-superuser/?token=" + strings.Repeat("a", 100),
			expired,
		} {
			if r := b.get(path); r.status != http.StatusNotFound {
				t.Errorf("GET %s: want 404, got %d", path, r.status)
			}
		}
		if r := b.post("/account/first-superuser/", form(tokenOf(t, expired), "root", pw, pw)...); r.status != http.StatusNotFound {
			t.Errorf("POST with an expired link: want 404, got %d", r.status)
		}
		if has, _ := s.auth.HasSuperuser(ctx); has {
			t.Fatalf("a bad link created a superuser")
		}
		if r := b.get(real); r.status != http.StatusOK {
			t.Errorf("the valid link stopped working: %d", r.status)
		}
	})
}

// --- serve prints the first-superuser link ---

// syncBuffer is a bytes.Buffer safe for a writer and a reader goroutine.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}
func (s *syncBuffer) String() string { s.mu.Lock(); defer s.mu.Unlock(); return s.b.String() }

var serveMu sync.Mutex // serve listens for SIGTERM process-wide: one at a time

// serve starts `site serve`, waits until it answers, calls during, then
// stops it with SIGTERM and returns its output.
func (f *fixture) serve(t *testing.T, during func(base string)) (string, string) {
	t.Helper()
	serveMu.Lock()
	defer serveMu.Unlock()
	var out, errb syncBuffer
	e := f.env(strings.NewReader(""), &out, &errb)
	done := make(chan int, 1)
	go func() { done <- run(e, []string{"serve", "--addr", "127.0.0.1:0"}) }()
	baseRE := regexp.MustCompile(`running at (http://[^/\s]+)/admin/`)
	var base string
	deadline := time.Now().Add(20 * time.Second)
	for base == "" {
		select {
		case code := <-done:
			t.Fatalf("serve exited %d: %s %s", code, out.String(), errb.String())
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("serve did not start: %s %s", out.String(), errb.String())
		}
		if m := baseRE.FindStringSubmatch(out.String()); m != nil {
			base = strings.Replace(m[1], "localhost", "127.0.0.1", 1)
		}
		time.Sleep(10 * time.Millisecond)
	}
	// The server answers only after serve listens for signals.
	for {
		res, err := http.Get(base + "/account/login/")
		if err == nil {
			res.Body.Close()
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("serve does not answer: %v", err)
		}
		time.Sleep(10 * time.Millisecond)
	}
	during(base)
	if err := syscall.Kill(os.Getpid(), syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	select {
	case code := <-done:
		if code != 0 {
			t.Errorf("serve exited %d: %s", code, errb.String())
		}
	case <-time.After(15 * time.Second):
		t.Fatal("serve did not stop on SIGTERM")
	}
	return out.String(), errb.String()
}

func TestServe(t *testing.T) {
	f := newFixture(t)
	stdout, _ := f.serve(t, func(string) {})
	m := regexp.MustCompile(`(?m)^\s+http://[^/\s]+(/account/first-superuser/\?token=\S+)$`).FindStringSubmatch(stdout)
	if m == nil || !strings.Contains(stdout, "No superuser yet") || !strings.Contains(stdout, "site createsuperuser") {
		t.Fatalf("serve on a fresh database does not print the first-superuser link:\n%s", stdout)
	}
	link := m[1]

	// The printed link works against the same database.
	s := f.open()
	b := newBrowser(t, s.handler)
	if r := b.get(link); r.status != http.StatusOK {
		t.Fatalf("printed link: want 200, got %d", r.status)
	}
	u, _ := url.Parse(link)
	r := b.post("/account/first-superuser/", "token", u.Query().Get("token"), "username", "root", "password1", pw, "password2", pw)
	if r.status != http.StatusSeeOther {
		t.Fatalf("POST: want 303, got %d", r.status)
	}

	// With a superuser, serve prints the login address and no link; the
	// probes answer.
	stdout, _ = f.serve(t, func(base string) {
		for _, p := range []string{"/healthz", "/readyz"} {
			res, err := http.Get(base + p)
			if err != nil {
				t.Fatal(err)
			}
			res.Body.Close()
			if res.StatusCode != http.StatusOK || res.Header.Get("Set-Cookie") != "" {
				t.Errorf("%s: want 200 without a cookie, got %d %q", p, res.StatusCode, res.Header.Get("Set-Cookie"))
			}
		}
	})
	if strings.Contains(stdout, "first-superuser") || !strings.Contains(stdout, "/account/login/") {
		t.Errorf("serve with a superuser:\n%s", stdout)
	}
}
