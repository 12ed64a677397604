// Package locale loads the translation catalog from the locale files and
// picks a language for each request: ?lang=, then the language cookie, then
// Accept-Language, then English.
package locale

import (
	"fmt"
	"io/fs"
	"log/slog"
	"net/http"
	"sort"
	"strings"
	"sync"

	"github.com/BurntSushi/toml"
	"github.com/gin-gonic/gin"
	"github.com/nicksnyder/go-i18n/v2/i18n"
	"golang.org/x/text/language"
)

// CookieName is the cookie the language switcher sets.
const CookieName = "gatehouse_lang"

// Source is the language of the source messages.
const Source = "en"

var rtl = map[string]bool{"ar": true, "fa": true, "he": true, "ur": true}

// Catalog holds every language's messages.
type Catalog struct {
	fsys    fs.FS
	mu      sync.RWMutex
	bundle  *i18n.Bundle
	tags    []language.Tag // supported, Source first
	matcher language.Matcher
	langs   map[string]*Lang
}

// Load reads every active.<tag>.toml file of fsys.
func Load(fsys fs.FS) (*Catalog, error) {
	c := &Catalog{fsys: fsys}
	return c, c.Reload()
}

// Reload reads the locale files again; the development mode calls it on
// every request so translators see their edits at once.
func (c *Catalog) Reload() error {
	bundle := i18n.NewBundle(language.English)
	bundle.RegisterUnmarshalFunc("toml", toml.Unmarshal)
	files, err := fs.Glob(c.fsys, "*.*.toml")
	if err != nil {
		return err
	}
	if len(files) == 0 {
		return fmt.Errorf("locale: no <name>.<lang>.toml files")
	}
	for _, f := range files {
		if _, err := bundle.LoadMessageFileFS(c.fsys, f); err != nil {
			return fmt.Errorf("locale: %s: %w", f, err)
		}
	}
	tags := bundle.LanguageTags()
	if pm, err := pseudoMessages(c.fsys); err == nil {
		if err := bundle.AddMessages(pseudoTag, pm...); err != nil {
			return fmt.Errorf("locale: pseudo-locale: %w", err)
		}
	}
	sort.Slice(tags, func(i, j int) bool {
		if tags[i] == language.English || tags[j] == language.English {
			return tags[i] == language.English
		}
		return tags[i].String() < tags[j].String()
	})
	langs := make(map[string]*Lang, len(tags)+1)
	for _, t := range append(tags, pseudoTag) {
		name := t.String()
		langs[name] = &Lang{
			Tag:    name,
			Dir:    direction(t),
			Name:   nativeName(t),
			Pseudo: t == pseudoTag,
			loc:    i18n.NewLocalizer(bundle, name, Source),
		}
	}
	c.mu.Lock()
	c.bundle, c.tags, c.langs = bundle, tags, langs
	c.matcher = language.NewMatcher(tags)
	c.mu.Unlock()
	return nil
}

func direction(t language.Tag) string {
	base, _ := t.Base()
	if rtl[base.String()] {
		return "rtl"
	}
	return "ltr"
}

// Languages lists the supported languages, English first.
func (c *Catalog) Languages() []*Lang {
	c.mu.RLock()
	defer c.mu.RUnlock()
	out := make([]*Lang, 0, len(c.tags))
	for _, t := range c.tags {
		out = append(out, c.langs[t.String()])
	}
	return out
}

// Lang returns the language named by tag, or nil when it is not supported.
func (c *Catalog) Lang(tag string) *Lang {
	c.mu.RLock()
	defer c.mu.RUnlock()
	if l, ok := c.langs[tag]; ok {
		return l
	}
	// Accept case and separator variants such as pt_br or PT-BR.
	t, err := language.Parse(strings.ReplaceAll(tag, "_", "-"))
	if err != nil {
		return nil
	}
	if l, ok := c.langs[t.String()]; ok {
		return l
	}
	// A script or region we do not have: the closest language the matcher
	// is sure of (zh-TW → zh-Hant, de-AT → de), else nothing.
	if _, idx, conf := c.matcher.Match(t); conf >= language.High {
		return c.langs[c.tags[idx].String()]
	}
	return nil
}

// Match picks the best supported language for an Accept-Language header.
func (c *Catalog) Match(acceptLanguage string) *Lang {
	c.mu.RLock()
	defer c.mu.RUnlock()
	prefs, _, err := language.ParseAcceptLanguage(acceptLanguage)
	if err != nil || len(prefs) == 0 {
		return c.langs[Source]
	}
	// The matcher's returned tag can carry extensions (ja-u-rg-jpzzzz);
	// the index names the supported tag exactly.
	_, idx, conf := c.matcher.Match(prefs...)
	if conf == language.No {
		return c.langs[Source]
	}
	return c.langs[c.tags[idx].String()]
}

// Bundle returns the go-i18n bundle, for tools that inspect messages.
func (c *Catalog) Bundle() *i18n.Bundle {
	c.mu.RLock()
	defer c.mu.RUnlock()
	return c.bundle
}

// Lang is one language with its localizer.
type Lang struct {
	Tag  string // BCP 47, e.g. "pt-BR"
	Dir  string // "ltr" or "rtl"
	Name string // the language's name in itself
	// Pseudo marks the pseudo-locale, listed only in dev mode.
	Pseudo bool
	loc    *i18n.Localizer
}

// T translates message id. args are name/value pairs for the message's
// placeholders; a "Count" pair also selects the CLDR plural form.
func (l *Lang) T(id string, args ...any) string {
	cfg := &i18n.LocalizeConfig{MessageID: id}
	if len(args) > 0 {
		data := make(map[string]any, len(args)/2)
		for i := 0; i+1 < len(args); i += 2 {
			k, _ := args[i].(string)
			data[k] = args[i+1]
			if k == "Count" {
				cfg.PluralCount = args[i+1]
			}
		}
		cfg.TemplateData = data
	}
	s, err := l.loc.Localize(cfg)
	if err != nil {
		if s == "" {
			slog.Warn("locale: message missing", "id", id, "lang", l.Tag, "err", err)
			return id
		}
	}
	return s
}

const ctxKey = "gatehouse.lang"

// Middleware picks the request's language. A valid ?lang= also sets the
// language cookie, so the choice sticks.
func (c *Catalog) Middleware(dev bool) gin.HandlerFunc {
	return func(g *gin.Context) {
		if dev {
			if err := c.Reload(); err != nil {
				slog.Error("locale: reload", "err", err)
			}
		}
		var l *Lang
		if q := g.Query("lang"); q != "" {
			if l = c.Lang(q); l != nil {
				http.SetCookie(g.Writer, &http.Cookie{
					Name: CookieName, Value: l.Tag, Path: "/", MaxAge: 365 * 24 * 3600,
					HttpOnly: true, SameSite: http.SameSiteLaxMode, Secure: g.Request.TLS != nil,
				})
			}
		}
		if l == nil {
			if ck, err := g.Request.Cookie(CookieName); err == nil {
				l = c.Lang(ck.Value)
			}
		}
		if l == nil {
			l = c.Match(g.GetHeader("Accept-Language"))
		}
		g.Set(ctxKey, l)
		g.Header("Content-Language", l.Tag)
		g.Header("Vary", "Accept-Language, Cookie")
		g.Next()
	}
}

// From returns the request's language; English when the middleware did not run.
func From(g *gin.Context) *Lang {
	if v, ok := g.Get(ctxKey); ok {
		return v.(*Lang)
	}
	return fallback()
}

var fallbackOnce = sync.OnceValue(func() *Lang {
	b := i18n.NewBundle(language.English)
	return &Lang{Tag: Source, Dir: "ltr", Name: "English", loc: i18n.NewLocalizer(b, Source)}
})

func fallback() *Lang { return fallbackOnce() }
