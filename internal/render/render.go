// Package render executes html/template pages. Each page gets its own
// template set (layout + partials + the page), so pages that define the same
// block never overwrite each other, and an htmx request gets only the
// fragment it targets, rendered from the same template as the full page.
package render

import (
	"bytes"
	"fmt"
	"html/template"
	"io/fs"
	"net/http"
	"strings"
	"sync"

	"github.com/gin-gonic/gin"

	"github.com/gatehouse/gatehouse/internal/httpx"
	"github.com/gatehouse/gatehouse/internal/locale"
)

// Renderer holds one parsed template set per page.
type Renderer struct {
	fsys  fs.FS
	funcs template.FuncMap
	dev   bool

	mu   sync.RWMutex
	sets map[string]*template.Template
}

// Shared are the templates every page set includes.
var Shared = []string{"layout.html", "partials/*.html"}

// New parses pages lazily from fsys. In dev mode templates are parsed again
// on every render, so edits show on reload.
func New(fsys fs.FS, funcs template.FuncMap, dev bool) *Renderer {
	return &Renderer{fsys: fsys, funcs: funcs, dev: dev, sets: map[string]*template.Template{}}
}

func (r *Renderer) set(page string) (*template.Template, error) {
	if !r.dev {
		r.mu.RLock()
		t := r.sets[page]
		r.mu.RUnlock()
		if t != nil {
			return t, nil
		}
	}
	t := template.New(page).Funcs(r.funcs).Funcs(template.FuncMap{"partial": func(string, any) (template.HTML, error) { return "", nil }})
	for _, pattern := range append(append([]string{}, Shared...), page) {
		var err error
		if t, err = t.ParseFS(r.fsys, pattern); err != nil {
			return nil, fmt.Errorf("render: %s: %w", page, err)
		}
	}
	// partial renders a template of this set by a name known only at run
	// time (a method's token form); its output was escaped by html/template.
	t.Funcs(template.FuncMap{"partial": func(name string, data any) (template.HTML, error) {
		var b bytes.Buffer
		err := t.ExecuteTemplate(&b, name, data)
		return template.HTML(b.String()), err //nolint:gosec // output of html/template itself
	}})
	r.mu.Lock()
	r.sets[page] = t
	r.mu.Unlock()
	return t, nil
}

// Check parses every page now, so a broken template fails at start.
func (r *Renderer) Check(pages ...string) error {
	for _, p := range pages {
		if _, err := r.set(p); err != nil {
			return err
		}
	}
	return nil
}

// View is what every template gets as its dot: the language, the page's own
// data and the request facts the layout needs.
type View struct {
	Lang     *locale.Lang
	Langs    []*locale.Lang
	Title    string
	Path     string // current path, for the language switcher
	Query    string // current query without lang
	NoStore  bool   // page shows secrets: hx-history="false"
	User     any    // the signed-in user, or nil
	Messages []string
	D        any // the page's own data
}

// T translates a message in the view's language.
func (v *View) T(id string, args ...any) string { return v.Lang.T(id, args...) }

// IsHTMX reports whether the request came from htmx and wants a fragment.
// A history-restore request wants the full page.
func IsHTMX(c *gin.Context) bool {
	return c.GetHeader("HX-Request") == "true" && c.GetHeader("HX-History-Restore-Request") != "true"
}

// HTML renders page with status. When the request came from htmx and
// fragment is not empty, only that named template is rendered.
func (r *Renderer) HTML(c *gin.Context, status int, page, fragment string, v *View) {
	c.Header("Vary", "HX-Request")
	if v.NoStore {
		c.Header("Cache-Control", "no-store")
	}
	t, err := r.set(page)
	if err != nil {
		httpx.Logger(c.Request.Context()).Error("render", "page", page, "err", err)
		c.String(http.StatusInternalServerError, "template error")
		return
	}
	name := "layout"
	if fragment != "" && IsHTMX(c) {
		name = fragment
	}
	var buf bytes.Buffer
	if err := t.ExecuteTemplate(&buf, name, v); err != nil {
		httpx.Logger(c.Request.Context()).Error("render", "page", page, "template", name, "err", err)
		c.String(http.StatusInternalServerError, "template error")
		return
	}
	c.Data(status, "text/html; charset=utf-8", buf.Bytes())
}

// Redirect leaves the page: 303 for plain requests, and for htmx requests
// 200 with HX-Redirect, because htmx does not act on 3xx headers.
func Redirect(c *gin.Context, to string) {
	c.Header("Vary", "HX-Request")
	if c.GetHeader("HX-Request") == "true" {
		c.Header("HX-Redirect", to)
		c.Status(http.StatusOK)
		return
	}
	c.Redirect(http.StatusSeeOther, to)
}

// QueryWithout returns the raw query of the request without the named keys.
func QueryWithout(c *gin.Context, keys ...string) string {
	q := c.Request.URL.Query()
	for _, k := range keys {
		q.Del(k)
	}
	return strings.TrimPrefix(q.Encode(), "?")
}
