// Package admin is Gatehouse's admin site: registered GORM models get
// guarded, server-rendered, htmx-enhanced pages. Every admin route sits
// behind AdminSiteOTPRequired: only active staff whose session was verified
// with a second factor get in.
package admin

import (
	"net/http"
	"net/url"

	"github.com/gin-gonic/gin"

	"github.com/gatehouse/gatehouse/auth"
	"github.com/gatehouse/gatehouse/internal/httpx"
	"github.com/gatehouse/gatehouse/internal/locale"
)

// Options configure a Site.
type Options struct {
	// Prefix is where the site is mounted; default "/admin".
	Prefix string
}

// Site is one admin site.
type Site struct {
	auth *auth.Service
	opts Options
}

// NewSite returns an admin site that authenticates through a.
func NewSite(a *auth.Service, o Options) *Site {
	if o.Prefix == "" {
		o.Prefix = "/admin"
	}
	return &Site{auth: a, opts: o}
}

// AdminSiteOTPRequired is the admin's guard: anonymous users go to the
// login page, password-only sessions never get in, and verified users who
// are not active staff get 403.
func AdminSiteOTPRequired(a *auth.Service, prefix string) gin.HandlerFunc {
	return a.OTPRequired(auth.GuardOptions{
		LoginURL:        prefix + "/login/",
		VerificationURL: a.Config().LoginURL,
		Allow:           func(u *auth.User) bool { return u.IsActive && u.IsStaff },
	})
}

// Mount adds the site's routes to e.
func (s *Site) Mount(e *gin.Engine) {
	p := s.opts.Prefix
	e.GET(p+"/login/", s.login)
	e.POST(p+"/logout/", s.logout)
	g := e.Group(p, AdminSiteOTPRequired(s.auth, p))
	g.GET("/", s.index)
}

// login sends the admin login to the two-factor login, keeping next.
func (s *Site) login(c *gin.Context) {
	next := httpx.RedirectOr(c.Query("next"), s.opts.Prefix+"/")
	c.Redirect(http.StatusFound, s.auth.Config().LoginURL+"?next="+url.QueryEscape(next))
}

// logout forwards to the account logout, which destroys the session.
func (s *Site) logout(c *gin.Context) {
	c.Redirect(http.StatusTemporaryRedirect, "/account/logout/")
}

// appLink and modelLink are index entries.
type appLink struct {
	Name   string
	Models []modelLink
}

type modelLink struct{ Name, URL string }

func (s *Site) index(c *gin.Context) {
	l := locale.From(c)
	v := s.auth.View(c, l.T("admin_index_title"), struct{ Apps []appLink }{})
	s.auth.HTML(c, http.StatusOK, "admin/index.html", "", v)
}
