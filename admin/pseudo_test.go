package admin_test

import (
	"html"
	"regexp"
	"strings"
	"testing"
)

var (
	dropRE  = regexp.MustCompile(`(?s)<script.*?</script>|<style.*?</style>|<select id="lang-select".*?</select>|<code[^>]*>.*?</code>|<title>.*?</title>`)
	tagRE   = regexp.MustCompile(`(?s)<[^>]*>`)
	asciiRE = regexp.MustCompile(`[A-Za-z]{3,}`)
)

// TestPseudoLocaleCoversPages renders pages in the pseudo-locale: every
// translated word comes out accented, so a plain ASCII word left on the
// page is text that bypassed the catalog (names and data aside).
func TestPseudoLocaleCoversPages(t *testing.T) {
	app, _ := newLibrary(t)
	seedBooks(t, app, 3)
	data := map[string]bool{"root": true, "Gatehouse": true, "Ursula": true, "Guin": true, "Italo": true, "Calvino": true,
		"Book": true, "novel": true, "poetry": true, "science": true, "classic": true, "ISBN": true, "fresh": true, "example": true, "com": true,
		"UTC": true, // times are shown in UTC
		// The test's own models have no message ids: their names and labels are theirs.
		"Books": true, "Authors": true, "Tags": true, "Loans": true, "Novel": true, "Poetry": true, "Science": true, "Website": true,
		"Mark": true, "out": true, "stock": true}
	fresh := app.Client()
	app.User("fresh", true, true)
	fresh.Get("/account/login/?lang=en-XA")
	fresh.Password("fresh", "correct horse battery")
	setup := fresh.Post("/account/two_factor/setup/", "setup_view-current_step", "welcome")
	c := superuser(t, app)
	c.Get("/admin/?lang=en-XA")
	pages := map[string]string{"setup generator": setup.Body}
	for _, p := range []string{"/account/two_factor/", "/account/two_factor/backup/tokens/", "/account/two_factor/disable/",
		"/admin/", "/admin/library/", "/admin/library/book/", "/admin/library/book/add/", "/admin/library/book/1/change/",
		"/admin/library/book/1/history/", "/admin/library/book/1/delete/", "/admin/auth/user/"} {
		pages[p] = c.Get(p).Body
	}
	pages["/account/login/ (anonymous)"] = app.Client().Get("/account/login/?lang=en-XA").Body
	for name, body := range pages {
		if !strings.Contains(body, `lang="en-XA"`) {
			t.Errorf("%s: not rendered in the pseudo-locale", name)
			continue
		}
		text := html.UnescapeString(tagRE.ReplaceAllString(dropRE.ReplaceAllString(body, " "), " "))
		var left []string
		for _, w := range asciiRE.FindAllString(text, -1) {
			if !data[w] {
				left = append(left, w)
			}
		}
		if len(left) > 0 {
			t.Errorf("%s: text that bypassed translation: %q", name, left)
		}
	}
}
