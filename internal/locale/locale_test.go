package locale_test

import (
	"io/fs"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

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
		{"query region variant", "lang=de-AT", "", "", "de ltr"},
		{"accept script variant", "", "", "sr-Latn-RS", "sr-Latn ltr"},
		{"Taiwan reads Traditional Chinese", "", "", "zh-TW,zh;q=0.8", "zh-Hant ltr"},
		{"Hong Kong reads Traditional Chinese", "", "", "zh-HK", "zh-Hant ltr"},
		{"Macau reads Traditional Chinese", "lang=zh-MO", "", "", "zh-Hant ltr"},
		{"mainland reads Simplified Chinese", "", "", "zh-CN", "zh-Hans ltr"},
		{"Portugal reads European Portuguese", "", "", "pt-PT", "pt-PT ltr"},
		{"Angola reads European Portuguese", "", "", "pt-AO", "pt-PT ltr"},
		{"Brazil reads Brazilian Portuguese", "", "", "pt-BR", "pt-BR ltr"},
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

// Each variant in the language menu has its own name in its own language.
func TestLanguageNames(t *testing.T) {
	cat, err := locale.Load(locales.FS)
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]string{"sr-Latn": "srpski (latinica)", "pt-BR": "português (Brasil)", "pt-PT": "português (Portugal)", "zh-Hant": "繁體中文", "ko": "한국어", "de": "Deutsch", "he": "עברית"}
	for _, l := range cat.Languages() {
		if w, ok := want[l.Tag]; ok && l.Name != w {
			t.Errorf("%s: menu name %q, want %q", l.Tag, l.Name, w)
		}
	}
}

// TestCatalogsComplete: every language passes `site i18n check`: every
// English message, the same placeholders, all its plural categories.
func TestCatalogsComplete(t *testing.T) {
	for _, tag := range locale.Tags(locales.FS) {
		r := locale.Check(locales.FS, tag)
		if !r.OK() {
			t.Errorf("%s: %.0f%% complete; missing %v; unknown %v; placeholders %v; plurals %v; errors %v",
				tag, r.Percent(), r.Missing, r.Unknown, r.Placeholders, r.Plurals, r.Errors)
		}
	}
}

// TestEveryUsedMessageExists scans templates and Go code for message ids.
func TestEveryUsedMessageExists(t *testing.T) {
	en, err := locale.ReadLanguage(locales.FS, locale.Source)
	if err != nil {
		t.Fatal(err)
	}
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

func TestPseudoLocale(t *testing.T) {
	cat, err := locale.Load(locales.FS)
	if err != nil {
		t.Fatal(err)
	}
	l := cat.Lang(locale.Pseudo)
	if l == nil {
		t.Fatal("pseudo-locale missing")
	}
	got := l.T("token_intro", "Device", "app")
	if !strings.HasPrefix(got, "[") || strings.Contains(got, "Enter") || !strings.Contains(got, "app") {
		t.Fatalf("pseudo text %q must be accented, bracketed and keep placeholders' values", got)
	}
	if p := locale.PseudoText("Log in {{.Name}}"); p != "[Ļöĝ îñ {{.Name}} ~]" {
		t.Fatalf("PseudoText = %q", p)
	}
	for _, lang := range cat.Languages() {
		if lang.Pseudo {
			t.Fatal("the pseudo-locale must not be offered in the language switcher")
		}
	}
}

func TestPluralCategories(t *testing.T) {
	if cats := locale.PluralCategories("ar"); strings.Join(cats, ",") != "zero,one,two,few,many,other" {
		t.Errorf("Arabic plural categories: %v", cats)
	}
	if cats := locale.PluralCategories("ja"); strings.Join(cats, ",") != "other" {
		t.Errorf("Japanese plural categories: %v", cats)
	}
	if cats := locale.PluralCategories("pl"); strings.Join(cats, ",") != "one,few,many,other" {
		t.Errorf("Polish plural categories: %v", cats)
	}
}
