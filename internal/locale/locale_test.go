package locale_test

import (
	"io/fs"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"testing"

	"github.com/BurntSushi/toml"
	"github.com/gin-gonic/gin"

	"github.com/gatehouse/gatehouse/internal/locale"
	"github.com/gatehouse/gatehouse/locales"
)

func TestLanguageChoice(t *testing.T) {
	cat, err := locale.Load(locales.FS)
	if err != nil {
		t.Fatal(err)
	}
	gin.SetMode(gin.ReleaseMode)
	e := gin.New()
	e.Use(cat.Middleware(false))
	e.GET("/", func(c *gin.Context) { l := locale.From(c); c.String(200, l.Tag+" "+l.Dir) })
	cases := []struct {
		name, query, cookie, accept, want string
	}{
		{"default", "", "", "", "en ltr"},
		{"accept-language", "", "", "de-CH,de;q=0.9,en;q=0.5", "de ltr"},
		{"unsupported accept falls back", "", "", "xx-YY", "en ltr"},
		{"cookie beats accept", "", "he", "de", "he rtl"},
		{"query beats cookie", "lang=de", "he", "", "de ltr"},
		{"bad query ignored", "lang=%3Cscript%3E", "", "he", "he rtl"},
		{"case-insensitive query", "lang=HE", "", "", "he rtl"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			r := httptest.NewRequest(http.MethodGet, "/?"+tc.query, nil)
			if tc.cookie != "" {
				r.AddCookie(&http.Cookie{Name: locale.CookieName, Value: tc.cookie})
			}
			if tc.accept != "" {
				r.Header.Set("Accept-Language", tc.accept)
			}
			w := httptest.NewRecorder()
			e.ServeHTTP(w, r)
			if w.Body.String() != tc.want {
				t.Fatalf("got %q, want %q", w.Body.String(), tc.want)
			}
			if strings.HasPrefix(tc.query, "lang=de") && !strings.Contains(w.Header().Get("Set-Cookie"), locale.CookieName+"=de") {
				t.Errorf("?lang= must set the language cookie")
			}
		})
	}
}

type message map[string]string

// readCatalog reads every <name>.<tag>.toml file of one language.
func readCatalog(t *testing.T, tag string) map[string]message {
	t.Helper()
	out := map[string]message{}
	files, _ := fs.Glob(locales.FS, "*."+tag+".toml")
	for _, f := range files {
		part := map[string]message{}
		if _, err := toml.DecodeFS(locales.FS, f, &part); err != nil {
			t.Fatalf("%s: %v", f, err)
		}
		for id, m := range part {
			if _, dup := out[id]; dup {
				t.Errorf("%s: message %s defined twice", f, id)
			}
			out[id] = m
		}
	}
	return out
}

var placeholder = regexp.MustCompile(`\{\{\s*\.(\w+)\s*\}\}`)

func placeholders(m message) string {
	set := map[string]bool{}
	for k, v := range m {
		if k == "description" {
			continue
		}
		for _, p := range placeholder.FindAllStringSubmatch(v, -1) {
			set[p[1]] = true
		}
	}
	var out []string
	for p := range set {
		out = append(out, p)
	}
	sort.Strings(out)
	return strings.Join(out, ",")
}

// plural categories each language needs (CLDR, as go-i18n implements it).
var pluralForms = map[string][]string{"en": {"one", "other"}, "de": {"one", "other"}, "he": {"one", "two", "other"}}

// TestCatalogsComplete: every language has every English message with the
// same placeholders and all its plural categories.
func TestCatalogsComplete(t *testing.T) {
	en := readCatalog(t, "en")
	files, _ := fs.Glob(locales.FS, "active.*.toml")
	for _, f := range files {
		tag := strings.TrimSuffix(strings.TrimPrefix(f, "active."), ".toml")
		cat := readCatalog(t, tag)
		for id, src := range en {
			if src["description"] == "" && tag == "en" {
				t.Errorf("en: %s has no description for translators", id)
			}
			m, ok := cat[id]
			if !ok {
				t.Errorf("%s: missing %s", tag, id)
				continue
			}
			if placeholders(m) != placeholders(src) {
				t.Errorf("%s: %s placeholders %q, English has %q", tag, id, placeholders(m), placeholders(src))
			}
			if _, plural := src["one"]; plural {
				for _, form := range pluralForms[tag] {
					if m[form] == "" {
						t.Errorf("%s: %s lacks plural form %q", tag, id, form)
					}
				}
			}
		}
		for id := range cat {
			if _, ok := en[id]; !ok {
				t.Errorf("%s: stale message %s (not in English)", tag, id)
			}
		}
	}
}

// TestEveryUsedMessageExists scans templates and Go code for message ids.
func TestEveryUsedMessageExists(t *testing.T) {
	en := readCatalog(t, "en")
	patterns := []*regexp.Regexp{
		regexp.MustCompile(`\.T "([a-z0-9_]+)"`),
		regexp.MustCompile(`\.T\("([a-z0-9_]+)"`),
		regexp.MustCompile(`(?:fail|Fail)\(c, [^,]+, "([a-z0-9_]+)"\)`),
		regexp.MustCompile(`return "(password_[a-z_]+)"`),
	}
	used := map[string]string{}
	root := filepath.Join("..", "..")
	for _, dir := range []string{"templates", "auth", "admin", "internal", "cmd"} {
		filepath.WalkDir(filepath.Join(root, dir), func(p string, d fs.DirEntry, err error) error {
			if err != nil || d.IsDir() || strings.HasSuffix(p, "_test.go") || !(strings.HasSuffix(p, ".go") || strings.HasSuffix(p, ".html")) {
				return nil
			}
			b, _ := os.ReadFile(p)
			for _, re := range patterns {
				for _, m := range re.FindAllStringSubmatch(string(b), -1) {
					used[m[1]] = p
				}
			}
			return nil
		})
	}
	if len(used) < 50 {
		t.Fatalf("scan found only %d message ids; the patterns are broken", len(used))
	}
	for id, where := range used {
		if _, ok := en[id]; !ok {
			t.Errorf("%s uses message %q, which active.en.toml lacks", where, id)
		}
	}
}
