package main

import (
	"crypto/rand"
	"encoding/hex"
	"errors"
	"flag"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"gorm.io/gorm"

	"github.com/gatehouse/gatehouse/admin"
	"github.com/gatehouse/gatehouse/auth"
	"github.com/gatehouse/gatehouse/auth/session"
	"github.com/gatehouse/gatehouse/internal/database"
)

const defaultDB = "data/gatehouse.db"

// maxSeconds is the longest duration setting time.Duration can hold.
const maxSeconds = float64(math.MaxInt64 / int64(time.Second))

// dbFlag adds --db, defaulting to GATEHOUSE_DB.
func (e *env) dbFlag(fs *flag.FlagSet) *string {
	def := e.getenv("GATEHOUSE_DB")
	if def == "" {
		def = defaultDB
	}
	return fs.String("db", def, "database: SQLite file path, postgres:// or mysql:// DSN (GATEHOUSE_DB)")
}

// plugins configure optional second-factor methods from GATEHOUSE_*
// settings; each method's file adds itself in an init function.
var plugins []func(e *env, a *auth.Service) error

// site is an opened database with its services.
type site struct {
	db    *gorm.DB
	auth  *auth.Service
	admin *admin.Site
}

// open opens the database, reads the settings and migrates.
func (e *env) open(dsn string, dev bool) (*site, error) {
	if dsn == "" {
		return nil, errors.New("GATEHOUSE_DB is empty: give a SQLite file path or a postgres:// or mysql:// DSN")
	}
	// Settings first: a wrong or missing setting is named even when the
	// database cannot be reached yet.
	cfg, err := e.authConfig(dsn)
	if err != nil {
		return nil, err
	}
	db, err := database.Open(dsn)
	if err != nil {
		return nil, err
	}
	cfg.Dev = dev
	a, err := auth.New(db, cfg)
	if err != nil {
		return nil, err
	}
	for _, p := range plugins {
		if err := p(e, a); err != nil {
			return nil, err
		}
	}
	if err := a.Migrate(contextBG()); err != nil {
		return nil, err
	}
	s := &site{db: db, auth: a, admin: admin.NewSite(a, admin.Options{})}
	if err := registerLibrary(contextBG(), s); err != nil {
		return nil, err
	}
	return s, nil
}

// authConfig reads GATEHOUSE_* settings; a wrong value names its setting.
func (e *env) authConfig(dsn string) (auth.Config, error) {
	cfg := auth.Defaults()
	var errs []error
	dur := func(name string, dst *time.Duration) {
		if v := e.getenv(name); v != "" {
			n, err := strconv.ParseFloat(v, 64)
			if err != nil || n < 0 || math.IsNaN(n) || n > maxSeconds {
				errs = append(errs, fmt.Errorf("%s: %q is not a number of seconds", name, v))
				return
			}
			*dst = time.Duration(n * float64(time.Second))
		}
	}
	integer := func(name string, dst *int) {
		if v := e.getenv(name); v != "" {
			n, err := strconv.Atoi(v)
			if err != nil {
				errs = append(errs, fmt.Errorf("%s: %q is not a whole number", name, v))
				return
			}
			*dst = n
		}
	}
	dur("GATEHOUSE_LOGIN_TIMEOUT", &cfg.LoginTimeout)
	dur("GATEHOUSE_TOTP_THROTTLE_FACTOR", &cfg.TOTPThrottleFactor)
	dur("GATEHOUSE_STATIC_THROTTLE_FACTOR", &cfg.StaticThrottleFactor)
	dur("GATEHOUSE_REMEMBER_COOKIE_AGE", &cfg.RememberCookieAge)
	// 0 turns device cookies off and keeps events for good (auth: negative).
	offAtZero := func(name string, dst *time.Duration) {
		if e.getenv(name) != "" {
			if dur(name, dst); *dst == 0 {
				*dst = -1
			}
		}
	}
	offAtZero("GATEHOUSE_DEVICE_COOKIE_AGE", &cfg.DeviceCookieAge)
	offAtZero("GATEHOUSE_EVENT_RETENTION", &cfg.EventRetention)
	dur("GATEHOUSE_SESSION_IDLE", &cfg.SessionIdle)
	dur("GATEHOUSE_REAUTH_WINDOW", &cfg.ReauthWindow)
	dur("GATEHOUSE_SESSION_ABSOLUTE", &cfg.SessionAbsolute)
	integer("GATEHOUSE_TOTP_DIGITS", &cfg.TOTPDigits)
	integer("GATEHOUSE_ACCOUNT_FAILURE_CAP", &cfg.AccountFailureCap)
	if v := e.getenv("GATEHOUSE_COOKIE_SECURE"); v != "" {
		b, err := strconv.ParseBool(v)
		if err != nil {
			errs = append(errs, fmt.Errorf("GATEHOUSE_COOKIE_SECURE: %q is not true or false", v))
		}
		cfg.CookieSecure = b
	}
	if v := e.getenv("GATEHOUSE_HSTS_MAX_AGE"); v != "" {
		n, err := strconv.ParseInt(v, 10, 64)
		switch {
		case err != nil || n < 0 || float64(n) > maxSeconds:
			errs = append(errs, fmt.Errorf("GATEHOUSE_HSTS_MAX_AGE: %q is not a whole number of seconds (0 turns the header off)", v))
		case n == 0:
			cfg.HSTSMaxAge = -1 // auth.Config: negative is off, zero the default
		default:
			cfg.HSTSMaxAge = time.Duration(n) * time.Second
		}
	}
	if v := e.getenv("GATEHOUSE_TRUSTED_PROXIES"); v != "" {
		cfg.TrustedProxies = strings.Split(v, ",")
	}
	if v := e.getenv("GATEHOUSE_TOTP_ISSUER"); v != "" {
		cfg.TOTPIssuer = v
	}
	errs = append(errs, e.rememberConfig(&cfg)...)
	if err := errors.Join(errs...); err != nil {
		return cfg, err
	}
	// Check everything but the key before a key file is generated.
	probe := cfg
	probe.SecretKey = make([]byte, 32)
	if err := probe.Validate(); err != nil {
		return cfg, err
	}
	if store := e.getenv("GATEHOUSE_SESSION_STORE"); store != "" && store != "db" {
		if !strings.HasPrefix(store, "redis://") {
			return cfg, fmt.Errorf("GATEHOUSE_SESSION_STORE: %q must be db or redis://host:port/N", store)
		}
		r, err := session.NewRedis(store, "gatehouse:session:", cfg.Clock.Now)
		if err != nil {
			return cfg, fmt.Errorf("GATEHOUSE_SESSION_STORE: %w", err)
		}
		cfg.SessionBackend = r
	}
	key, err := e.secretKey(dsn)
	if err != nil {
		return cfg, err
	}
	cfg.SecretKey = key
	return cfg, cfg.Validate()
}

// secretKey reads GATEHOUSE_SECRET_KEY, or for a SQLite database keeps a
// generated key in a 0600 file next to it. Shared databases need the
// variable: every instance must use the same key.
func (e *env) secretKey(dsn string) ([]byte, error) {
	if v := e.getenv("GATEHOUSE_SECRET_KEY"); v != "" {
		if len(v) < 32 {
			return nil, errors.New("GATEHOUSE_SECRET_KEY: must be at least 32 characters")
		}
		return []byte(v), nil
	}
	if database.Kind(dsn) != "sqlite" || strings.HasPrefix(dsn, "file:") {
		return nil, errors.New("GATEHOUSE_SECRET_KEY: required with a shared database; set the same value on every instance")
	}
	path := filepath.Join(filepath.Dir(dsn), "gatehouse.secret")
	for range 3 {
		b, err := os.ReadFile(path)
		if err == nil {
			key := strings.TrimSpace(string(b))
			if len(key) < 32 {
				return nil, fmt.Errorf("GATEHOUSE_SECRET_KEY: the key file %s is too short; delete it to make a new one", path)
			}
			return []byte(key), nil
		}
		if !errors.Is(err, os.ErrNotExist) {
			return nil, fmt.Errorf("GATEHOUSE_SECRET_KEY: %w", err)
		}
		raw := make([]byte, 32)
		if _, err := rand.Read(raw); err != nil {
			return nil, err
		}
		key := hex.EncodeToString(raw)
		created, err := createOnce(path, []byte(key+"\n"))
		if err != nil {
			return nil, fmt.Errorf("GATEHOUSE_SECRET_KEY: cannot write %s: %w", path, err)
		}
		if created {
			fmt.Fprintf(e.stderr, "Generated a secret key in %s (mode 0600). Keep it: it encrypts device keys.\n", path)
			return []byte(key), nil
		}
		// Another start made the file first: use theirs.
	}
	return nil, fmt.Errorf("GATEHOUSE_SECRET_KEY: cannot read or create %s", path)
}

// createOnce writes a complete 0600 file at path unless path exists, so
// two first starts never end up with different keys and no reader sees a
// half-written file: the data goes to a temporary file that is then linked
// into place, which fails when path exists.
func createOnce(path string, data []byte) (bool, error) {
	dir := filepath.Dir(path)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return false, err
	}
	tmp, err := os.CreateTemp(dir, ".gatehouse.secret-*") // mode 0600
	if err != nil {
		return false, err
	}
	defer os.Remove(tmp.Name())
	_, werr := tmp.Write(data)
	serr := tmp.Sync()
	if err := errors.Join(werr, serr, tmp.Close()); err != nil {
		return false, err
	}
	err = os.Link(tmp.Name(), path)
	if err == nil {
		return true, nil
	}
	if errors.Is(err, os.ErrExist) {
		return false, nil
	}
	// No hard links on this file system: exclusive create instead.
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if errors.Is(err, os.ErrExist) {
		return false, nil
	}
	if err != nil {
		return false, err
	}
	_, werr = f.Write(data)
	if err := errors.Join(werr, f.Close()); err != nil {
		os.Remove(path)
		return false, err
	}
	return true, nil
}
