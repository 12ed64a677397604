// Package admin is Gatehouse's admin site: registered GORM models get
// guarded, server-rendered, htmx-enhanced pages (changelist with search,
// filters, sorting and paging; add, change, delete; bulk actions; history),
// with per-model view/add/change/delete permissions. Every admin route sits
// behind AdminSiteOTPRequired: only active staff whose session was verified
// with a second factor get in.
package admin

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"reflect"
	"slices"
	"sort"

	"github.com/gin-gonic/gin"
	"gorm.io/gorm"
	"gorm.io/gorm/clause"

	"github.com/gatehouse/gatehouse/auth"
	"github.com/gatehouse/gatehouse/internal/httpx"
	"github.com/gatehouse/gatehouse/internal/locale"
)

// Options configure a Site.
type Options struct {
	// Prefix is where the site is mounted; default "/admin".
	Prefix string
	// NoBuiltins leaves out the user, group and device admins.
	NoBuiltins bool
}

// Site is one admin site.
type Site struct {
	auth   *auth.Service
	opts   Options
	models []*model
	byKey  map[string]*model
	// extraPages are built-in admins' own object pages, by "METHOD app.model/page".
	extraPages map[string]objectView
}

// NewSite returns an admin site that authenticates through a, with the
// user, group and device admins registered unless Options.NoBuiltins.
func NewSite(a *auth.Service, o Options) *Site {
	if o.Prefix == "" {
		o.Prefix = "/admin"
	}
	s := &Site{auth: a, opts: o, byKey: map[string]*model{}, extraPages: map[string]objectView{}}
	if !o.NoBuiltins {
		registerBuiltins(s)
	}
	return s
}

func (s *Site) db() *gorm.DB { return s.auth.DB() }

func (s *Site) add(m *model) {
	if _, dup := s.byKey[m.key()]; dup {
		panic("admin: model registered twice: " + m.key())
	}
	s.models = append(s.models, m)
	s.byKey[m.key()] = m
}

// AdminSiteOTPRequired is the admin's guard: anonymous users go to the
// admin login (which forwards to the two-factor login), password-only
// sessions never get in, and verified users who are not active staff get 403.
func AdminSiteOTPRequired(a *auth.Service, prefix string) gin.HandlerFunc {
	return a.OTPRequired(auth.GuardOptions{
		LoginURL:        prefix + "/login/",
		VerificationURL: a.Config().LoginURL,
		Allow:           func(u *auth.User) bool { return u.IsActive && u.IsStaff },
	})
}

// Migrate creates the history table and a view, add, change and delete
// permission for every registered model.
func (s *Site) Migrate(ctx context.Context) error {
	if err := s.db().WithContext(ctx).AutoMigrate(&LogEntry{}); err != nil {
		return err
	}
	models := slices.Clone(s.models)
	for _, m := range s.models {
		for i := range m.inlines {
			// An inline's child without an admin of its own still has
			// permissions: they decide who edits its rows.
			if in := &m.inlines[i]; s.modelOf(in.child.typ) == nil {
				models = append(models, in.child)
			}
		}
	}
	for _, m := range models {
		for _, p := range []string{"view", "add", "change", "delete"} {
			perm := auth.Permission{App: m.app, Codename: p + "_" + m.name, Name: fmt.Sprintf("Can %s %s", p, m.verbose)}
			if err := s.db().WithContext(ctx).Clauses(clause.OnConflict{DoNothing: true}).Create(&perm).Error; err != nil {
				return fmt.Errorf("admin: permissions of %s: %w", m.key(), err)
			}
		}
	}
	return nil
}

// Mount adds the site's routes to e.
func (s *Site) Mount(e *gin.Engine) {
	p := s.opts.Prefix
	e.GET(p+"/login/", s.login)
	e.POST(p+"/logout/", s.logout)
	g := e.Group(p, AdminSiteOTPRequired(s.auth, p))
	g.GET("/", s.index)
	g.GET("/:app/", s.appIndex)
	g.GET("/:app/:model/", s.withModel("view", s.changelist))
	g.POST("/:app/:model/", s.withModel("view", s.runAction))
	g.GET("/:app/:model/autocomplete/", s.withModel("view", s.autocomplete))
	g.GET("/:app/:model/add/", s.withModel("add", s.addForm))
	g.POST("/:app/:model/add/", s.withModel("add", s.addPost))
	g.GET("/:app/:model/:id/:page/", s.objectPage)
	g.POST("/:app/:model/:id/:page/", s.objectPage)
}

// objectView is a page of one object: its permission and handler.
type objectView struct {
	perm string
	h    func(*gin.Context, *model, any)
}

// objectPage dispatches /<app>/<model>/<id>/<page>/ by page and method:
// one route, so model-specific pages (the user admin's security page) need
// no routes of their own.
func (s *Site) objectPage(c *gin.Context) {
	page := c.Param("page")
	key := c.Param("app") + "." + c.Param("model") + "/" + page
	views := map[string]objectView{
		"GET change": {"view", s.changeForm}, "POST change": {"change", s.changePost},
		"GET delete": {"delete", s.deleteForm}, "POST delete": {"delete", s.deletePost},
		"GET history": {"view", s.history},
	}
	v, ok := views[c.Request.Method+" "+page]
	if !ok {
		v, ok = s.extraPages[c.Request.Method+" "+key]
	}
	if !ok {
		s.auth.Fail(c, http.StatusNotFound, "error_not_found")
		return
	}
	s.withObject(v.perm, v.h)(c)
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

const ctxModel, ctxPerms = "admin.model", "admin.perms"

// withModel resolves :app/:model and checks perm; unknown models are 404,
// missing permissions 403 — the same for every URL of the model.
func (s *Site) withModel(perm string, h func(*gin.Context, *model)) gin.HandlerFunc {
	return func(c *gin.Context) {
		m := s.byKey[c.Param("app")+"."+c.Param("model")]
		if m == nil {
			s.auth.Fail(c, http.StatusNotFound, "error_not_found")
			return
		}
		if !s.can(c, m, perm) {
			s.auth.Fail(c, http.StatusForbidden, "error_forbidden")
			return
		}
		h(c, m)
	}
}

// withObject also parses :id strictly and loads the object through the
// model's scope: another tenant's row is a 404.
func (s *Site) withObject(perm string, h func(*gin.Context, *model, any)) gin.HandlerFunc {
	return s.withModel(perm, func(c *gin.Context, m *model) {
		id, err := parseID(c.Param("id"))
		if err != nil {
			s.auth.Fail(c, http.StatusNotFound, "error_not_found")
			return
		}
		obj := m.newOne()
		res := m.scoped(c).Where(clause.Eq{Column: m.col(m.pk.DBName), Value: id}).Limit(1).Find(obj)
		if res.Error != nil {
			s.serverError(c, res.Error)
			return
		}
		if res.RowsAffected == 0 {
			s.auth.Fail(c, http.StatusNotFound, "admin_object_missing")
			return
		}
		h(c, m, obj)
	})
}

func (s *Site) serverError(c *gin.Context, err error) {
	_ = c.Error(err)
	s.auth.Fail(c, http.StatusInternalServerError, "error_internal")
}

// can reports whether the request's user has perm ("view", "add",
// "change", "delete") on m. Superusers have all; change implies view.
func (s *Site) can(c *gin.Context, m *model, perm string) bool {
	u := auth.UserFrom(c)
	if u == nil || !u.IsActive || !u.IsStaff {
		return false
	}
	if m.opts.readOnlyModel && (perm == "add" || perm == "change") {
		return false
	}
	if !u.IsSuperuser {
		perms := s.userPerms(c, u)
		ok := perms[m.app+"."+perm+"_"+m.name]
		if perm == "view" {
			ok = ok || perms[m.app+".change_"+m.name]
		}
		if !ok {
			return false
		}
	}
	if m.hooks.permission != nil {
		return m.hooks.permission(c, u, perm)
	}
	return true
}

// userPerms loads the user's own and groups' permissions once per request.
func (s *Site) userPerms(c *gin.Context, u *auth.User) map[string]bool {
	if v, ok := c.Get(ctxPerms); ok {
		return v.(map[string]bool)
	}
	var rows []struct{ App, Codename string }
	err := s.db().WithContext(c.Request.Context()).Raw(`
SELECT p.app, p.codename FROM auth_permission p JOIN auth_user_permissions up ON up.permission_id = p.id WHERE up.user_id = ?
UNION
SELECT p.app, p.codename FROM auth_permission p JOIN auth_group_permissions gp ON gp.permission_id = p.id
  JOIN auth_user_groups ug ON ug.group_id = gp.group_id WHERE ug.user_id = ?`, u.ID, u.ID).Scan(&rows).Error
	perms := map[string]bool{}
	if err != nil {
		_ = c.Error(err) // fail closed: no permissions
	}
	for _, r := range rows {
		perms[r.App+"."+r.Codename] = true
	}
	c.Set(ctxPerms, perms)
	return perms
}

// appLink and modelLink are index entries.
type appLink struct {
	Name   string
	URL    string
	Models []modelLink
}

type modelLink struct {
	Name, URL, AddURL string
}

// visibleApps lists the apps and models the user may view.
func (s *Site) visibleApps(c *gin.Context, only string) []appLink {
	l := locale.From(c)
	byApp := map[string]*appLink{}
	var names []string
	for _, m := range s.models {
		if (only != "" && m.app != only) || !s.can(c, m, "view") {
			continue
		}
		a := byApp[m.app]
		if a == nil {
			a = &appLink{Name: tr(l, "admin_app_"+m.app, humanize(m.app)), URL: s.opts.Prefix + "/" + m.app + "/"}
			byApp[m.app] = a
			names = append(names, m.app)
		}
		ml := modelLink{Name: tr(l, m.plural, m.plural), URL: m.url("")}
		if s.can(c, m, "add") {
			ml.AddURL = m.url("add/")
		}
		a.Models = append(a.Models, ml)
	}
	sort.Strings(names)
	out := make([]appLink, 0, len(names))
	for _, n := range names {
		out = append(out, *byApp[n])
	}
	return out
}

// indexData is the admin index's data.
type indexData struct {
	Apps   []appLink
	Recent []LogEntry
	Prefix string
}

func (s *Site) index(c *gin.Context) {
	l := locale.From(c)
	var recent []LogEntry
	u := auth.UserFrom(c)
	if err := s.db().WithContext(c.Request.Context()).Where("user_id = ?", u.ID).Order("id DESC").Limit(10).Find(&recent).Error; err != nil {
		_ = c.Error(err)
	}
	v := s.auth.View(c, l.T("admin_index_title"), &indexData{Apps: s.visibleApps(c, ""), Recent: recent, Prefix: s.opts.Prefix})
	s.auth.HTML(c, http.StatusOK, "admin/index.html", "", v)
}

func (s *Site) appIndex(c *gin.Context) {
	apps := s.visibleApps(c, c.Param("app"))
	if len(apps) == 0 {
		s.auth.Fail(c, http.StatusNotFound, "error_not_found")
		return
	}
	v := s.auth.View(c, apps[0].Name, &indexData{Apps: apps, Prefix: s.opts.Prefix})
	s.auth.HTML(c, http.StatusOK, "admin/index.html", "", v)
}

// tr translates id, or returns fallback when the catalog lacks it, so
// verbose names work before anyone translated them.
func tr(l *locale.Lang, id, fallback string) string {
	if id == "" {
		return fallback
	}
	if s := l.T(id); s != id {
		return s
	}
	return fallback
}

// relatedRow is one option of a foreign-key select.
type relatedRow struct{ Value, Label string }

// related lists rows of c's related model for selects, filters and the
// autocomplete widget, labelled by their String method when they have one:
// only those the user may see (visibleRows).
func (s *Site) related(g *gin.Context, c *column, term string, limit int) ([]relatedRow, error) {
	rs := c.rel.FieldSchema
	slice := reflect.New(reflect.SliceOf(rs.ModelType))
	// Only the rows the user may see in the related model's own admin.
	db := s.visibleOrNone(g, rs).Order(clause.OrderByColumn{Column: clause.Column{Table: rs.Table, Name: rs.PrioritizedPrimaryField.DBName}}).Limit(limit).
		Select("?.*", clause.Table{Name: rs.Table}) // a scope's join must not add columns
	if term != "" {
		if rm := s.modelOf(rs.ModelType); rm != nil && len(rm.opts.search) > 0 {
			db = rm.searchWhere(g, db, term, false)
		}
	}
	if err := db.Find(slice.Interface()).Error; err != nil {
		return nil, err
	}
	out := make([]relatedRow, 0, slice.Elem().Len())
	for i := 0; i < slice.Elem().Len(); i++ {
		row := slice.Elem().Index(i)
		id, _ := rs.PrioritizedPrimaryField.ValueOf(g.Request.Context(), row)
		out = append(out, relatedRow{Value: fmt.Sprint(id), Label: reprOf(row.Addr().Interface(), rs.Name, id)})
	}
	return out, nil
}

func (s *Site) modelOf(t reflect.Type) *model {
	for _, m := range s.models {
		if m.typ == t {
			return m
		}
	}
	return nil
}

// reprOf is an object's display string: its String method, or "Name #id".
func reprOf(obj any, name string, id any) string {
	if st, ok := obj.(fmt.Stringer); ok {
		return st.String()
	}
	return fmt.Sprintf("%s #%v", name, id)
}
