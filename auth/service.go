// Package auth is Gatehouse's identity layer: users, groups and permissions,
// argon2id passwords, server-side sessions, the login and setup wizards,
// second-factor devices behind a method registry (TOTP and backup codes
// built in), throttling, the OTP-required guard and hooks.
//
// A password alone never reaches anything but the pending login and the
// enrolment pages: a session counts as logged in only once a second factor
// verified.
package auth

import (
	"context"
	"errors"
	"fmt"
	"html/template"
	"log/slog"
	"net/http"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	ginsessions "github.com/gin-contrib/sessions"
	"github.com/gin-gonic/gin"
	"gorm.io/gorm"

	"github.com/gatehouse/gatehouse/auth/session"
	"github.com/gatehouse/gatehouse/internal/clock"
	"github.com/gatehouse/gatehouse/internal/httpx"
	"github.com/gatehouse/gatehouse/internal/locale"
	"github.com/gatehouse/gatehouse/internal/render"
	"github.com/gatehouse/gatehouse/locales"
	"github.com/gatehouse/gatehouse/static"
	"github.com/gatehouse/gatehouse/templates"
)

// SessionBackend stores server-side session records (database or Redis).
type SessionBackend = session.Backend

// SessionCookie is the session cookie's name.
const SessionCookie = "gatehouse_session"

// Service is the auth layer of one site. Build it with New, call Migrate,
// then Engine to get a Gin engine with every auth route mounted.
type Service struct {
	cfg      Config
	db       *gorm.DB
	clock    clock.Clock
	keys     *keyring
	proxies  httpx.Proxies
	hasher   *Hasher
	thr      *throttle
	methods  registry
	render   *render.Renderer
	catalog  *locale.Catalog
	sessions *session.Store
	backend  SessionBackend
	verified []UserVerifiedFunc
	events   []EventFunc
	features sync.Map                      // template features, see SetFeature
	draining atomic.Bool                   // shutting down: /readyz answers 503
	sections map[string]ProfileSectionFunc // account page blocks, see AddProfileSection
}

// New checks cfg (filling the seed's defaults) and returns a Service over db
// with the built-in methods: authenticator app ("generator") and backup codes.
func New(db *gorm.DB, cfg Config) (*Service, error) {
	cfg = cfg.withDefaults()
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	keys, err := newKeyring(cfg.SecretKey)
	if err != nil {
		return nil, err
	}
	catalog, err := locale.Load(locales.FS)
	if err != nil {
		return nil, err
	}
	proxies, err := httpx.ParseProxies(cfg.TrustedProxies)
	if err != nil {
		return nil, err // Validate said so already
	}
	s := &Service{cfg: cfg, db: db, clock: cfg.Clock, keys: keys, catalog: catalog, proxies: proxies,
		hasher: NewHasher(DefaultArgon2, 0)}
	s.thr = &throttle{db: db, now: s.clock.Now}
	s.render = render.New(render.Overlay(cfg.Templates, templates.FS), s.templateFuncs(), cfg.Dev)
	s.backend = cfg.SessionBackend
	if s.backend == nil {
		s.backend = session.NewDB(db, s.clock.Now)
	}
	s.sessions = session.NewStore(s.backend, session.Config{
		Idle: cfg.SessionIdle, Absolute: cfg.SessionAbsolute, Clock: s.clock, Secure: s.secureRequest,
	})
	s.Register(&totpMethod{s})
	s.Register(&backupMethod{s})
	return s, nil
}

// Logger is the logger of the site: Config.Logger, or slog.Default().
// Code that handles a request logs through httpx.Logger(ctx), which is it.
func (s *Service) Logger() *slog.Logger {
	if s.cfg.Logger != nil {
		return s.cfg.Logger
	}
	return slog.Default()
}

// Config returns the effective configuration.
func (s *Service) Config() Config { return s.cfg }

// DB returns the database.
func (s *Service) DB() *gorm.DB { return s.db }

// Now is the service clock's time.
func (s *Service) Now() time.Time { return s.clock.Now() }

// Hasher returns the password hasher.
func (s *Service) Hasher() *Hasher { return s.hasher }

// Renderer returns the page renderer, shared with the admin.
func (s *Service) Renderer() *render.Renderer { return s.render }

// Catalog returns the translation catalog.
func (s *Service) Catalog() *locale.Catalog { return s.catalog }

// Migrate creates or updates every table auth and its methods need.
func (s *Service) Migrate(ctx context.Context) error {
	models := []any{&User{}, &Group{}, &Permission{}, &bootstrapToken{}, &throttleRow{}, &Event{}}
	if _, ok := s.backend.(*session.DB); ok {
		models = append(models, &session.Record{})
	}
	for _, m := range s.methods.methods {
		models = append(models, m.Models()...)
	}
	if err := s.db.WithContext(ctx).AutoMigrate(models...); err != nil {
		return fmt.Errorf("migrate: %w", err)
	}
	if err := s.rehashThrottle(ctx); err != nil {
		return fmt.Errorf("migrate: throttle keys: %w", err)
	}
	return s.seedMethods(ctx)
}

// Engine returns a Gin engine with the shared middleware (recovery, access
// log, security headers, input guard, language, sessions, current user) and
// the auth routes. Serve it through Handler.
func (s *Service) Engine() *gin.Engine {
	gin.SetMode(gin.ReleaseMode)
	e := gin.New()
	_ = e.SetTrustedProxies(s.proxies.Strings()) // parsed and checked in New
	e.Use(httpx.Recover())
	// Probes first: no access log line, no session, no language.
	e.GET(HealthzPath, httpx.SecurityHeaders(s.IsHTTPS, s.cfg.HSTSMaxAge), s.healthz)
	e.GET(ReadyzPath, httpx.SecurityHeaders(s.IsHTTPS, s.cfg.HSTSMaxAge), s.readyz)
	e.Use(httpx.RequestID(s.proxies), httpx.AccessLog(s.cfg.Logger), httpx.SecurityHeaders(s.IsHTTPS, s.cfg.HSTSMaxAge))
	e.GET("/static/*path", staticFiles())
	e.Use(httpx.InputGuard(), s.catalog.Middleware(s.cfg.Dev), ginsessions.Sessions(SessionCookie, s.sessions), s.loadUser())
	s.routes(e)
	e.NoRoute(func(c *gin.Context) { s.fail(c, http.StatusNotFound, "error_not_found") })
	e.NoMethod(func(c *gin.Context) { s.fail(c, http.StatusMethodNotAllowed, "error_method") })
	e.HandleMethodNotAllowed = true
	return e
}

func staticFiles() gin.HandlerFunc {
	fileServer := http.StripPrefix("/static/", http.FileServerFS(static.FS))
	return func(c *gin.Context) {
		p := c.Param("path")
		if strings.HasSuffix(p, ".go") || strings.HasSuffix(p, "/") {
			c.AbortWithStatus(http.StatusNotFound)
			return
		}
		c.Header("Cache-Control", "public, max-age=3600")
		fileServer.ServeHTTP(c.Writer, c.Request)
	}
}

// IsHTTPS reports whether the browser reached the site over https: TLS to
// this process, or "X-Forwarded-Proto: https" from one of
// Config.TrustedProxies (from any other client the header is ignored).
// It decides Secure cookies, the session cookie's __Host- prefix, HSTS and
// the WebAuthn origin.
func (s *Service) IsHTTPS(r *http.Request) bool { return s.proxies.HTTPS(r) }

// secureRequest reports whether cookies for r get the Secure flag.
func (s *Service) secureRequest(r *http.Request) bool { return s.cfg.CookieSecure || s.IsHTTPS(r) }

// Handler wraps the engine in net/http's cross-origin protection: every
// cross-origin POST is refused with 403 before any route sees it.
func Handler(h http.Handler) http.Handler {
	return http.NewCrossOriginProtection().Handler(h)
}

func (s *Service) routes(e *gin.Engine) {
	e.GET("/account/login/", s.loginGet)
	e.POST("/account/login/", s.loginPost)
	e.GET("/account/logout/", s.logoutGet)
	e.POST("/account/logout/", s.logoutPost)
	e.GET("/account/first-superuser/", s.bootstrapGet)
	e.POST("/account/first-superuser/", s.bootstrapPost)
	e.GET("/account/two_factor/setup/", s.setupGet)
	e.POST("/account/two_factor/setup/", s.setupPost)
	e.GET("/account/two_factor/qrcode/", s.qrcode)
	verified := e.Group("/account/two_factor", s.OTPRequired(GuardOptions{}))
	verified.GET("/", s.profile)
	verified.GET("/setup/complete/", s.setupComplete)
	verified.GET("/reauth/", s.reauthGet)
	verified.POST("/reauth/", s.reauthPost)
	verified.GET("/backup/tokens/", s.SudoRequired(""), s.backupGet)
	verified.POST("/backup/tokens/", s.SudoRequired(backupURL), s.backupPost)
	verified.GET("/disable/", s.SudoRequired(""), s.disableGet)
	verified.POST("/disable/", s.SudoRequired(disableURL), s.disablePost)
	pw := e.Group(PasswordChangeURL, s.OTPRequired(GuardOptions{}), s.SudoRequired(PasswordChangeURL))
	pw.GET("", s.passwordGet)
	pw.POST("", s.passwordPost)
	for _, m := range s.methods.methods {
		if r, ok := m.(Router); ok {
			r.Routes(e)
		}
	}
}

// templateFuncs are the helpers templates may call; none returns template.HTML.
func (s *Service) templateFuncs() template.FuncMap {
	return template.FuncMap{
		"add":      func(a, b int) int { return a + b },
		"feature":  s.feature,
		"contains": slices.Contains[[]string],
		"inputType": func(kind string) string {
			switch kind {
			case "int", "float", "decimal":
				return "number"
			case "date":
				return "date"
			case "datetime":
				return "datetime-local"
			}
			return "text"
		},
	}
}

// View builds the template data of a page in the request's language.
func (s *Service) View(c *gin.Context, title string, data any) *render.View {
	l := locale.From(c)
	v := &render.View{Lang: l, Langs: s.catalog.Languages(), Path: c.Request.URL.Path,
		Query: render.QueryWithout(c, "lang"), Title: title, D: data}
	if u := UserFrom(c); u != nil {
		v.User = u
		v.Messages = flashes(c)
	}
	return v
}

// HTML renders page (fragment for htmx requests) with the view.
func (s *Service) HTML(c *gin.Context, status int, page, fragment string, v *render.View) {
	s.render.HTML(c, status, page, fragment, v)
}

// errorData is the error page's data.
type errorData struct {
	Status    int
	Message   string
	RequestID string // on server errors, so a user's report finds the log lines
}

// fail renders the error page with a translated message.
func (s *Service) fail(c *gin.Context, status int, msgID string) {
	l := locale.From(c)
	s.ErrorPage(c, status, l.T("error_title", "Status", status), l.T(msgID))
}

// ErrorPage aborts the request with the error page: a translated title and
// message; server errors also show the request id.
func (s *Service) ErrorPage(c *gin.Context, status int, title, message string) {
	d := errorData{Status: status, Message: message}
	if status >= http.StatusInternalServerError {
		d.RequestID = httpx.RequestIDFrom(c.Request.Context())
	}
	c.Abort()
	s.render.HTML(c, status, "error.html", "", s.View(c, title, d))
}

// Fail is fail for other packages (the admin).
func (s *Service) Fail(c *gin.Context, status int, msgID string) { s.fail(c, status, msgID) }

// saveSession saves the session or answers 500 and reports false: a
// session that did not persist must not look as if it had.
func (s *Service) saveSession(c *gin.Context, sess ginsessions.Session) bool {
	if err := sess.Save(); err != nil {
		s.internalError(c, err)
		return false
	}
	return true
}

func (s *Service) internalError(c *gin.Context, err error) {
	_ = c.Error(err)
	errLog(c, err)
	s.fail(c, http.StatusInternalServerError, "error_internal")
}

var errNoUser = errors.New("no such user")
