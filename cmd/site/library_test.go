package main

import (
	"context"
	"fmt"
	"io"
	"io/fs"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/BurntSushi/toml"
	"github.com/gin-gonic/gin"
	"github.com/pquerna/otp/totp"

	"github.com/gatehouse/gatehouse/admin"
	"github.com/gatehouse/gatehouse/auth"
	"github.com/gatehouse/gatehouse/auth/authtest"
	"github.com/gatehouse/gatehouse/cmd/site/library"
	"github.com/gatehouse/gatehouse/internal/testenv"
	"github.com/gatehouse/gatehouse/locales"
)

// libraryApp is a test site with the library registered, on d.
func libraryApp(t *testing.T, d testenv.DB) *authtest.App {
	t.Helper()
	return authtest.New(t, authtest.Options{DB: d, Mount: func(s *auth.Service, e *gin.Engine) {
		ctx := context.Background()
		if err := library.Migrate(ctx, s.DB()); err != nil {
			t.Fatal(err)
		}
		site := admin.NewSite(s, admin.Options{})
		library.Register(site, s.Now)
		if err := site.Migrate(ctx); err != nil {
			t.Fatal(err)
		}
		site.Mount(e)
	}})
}

func forEachLibraryDB(t *testing.T, f func(*testing.T, testenv.DB)) {
	for _, d := range testenv.DBs(t) {
		t.Run(d.Name, func(t *testing.T) { f(t, d) })
	}
}

var selectedRE = regexp.MustCompile(`name="_selected_action" value="(\d+)"`)

// rowIDs are the ids of a changelist's rows, in order.
func rowIDs(body string) []uint {
	var out []uint
	for _, m := range selectedRE.FindAllStringSubmatch(body, -1) {
		n, _ := strconv.ParseUint(m[1], 10, 64)
		out = append(out, uint(n))
	}
	return out
}

// TestLibraryOnTheSite: the binary's site registers the library before
// mounting the admin, with its permissions, and a second start does not
// rebuild the book table (GORM rebuilds a SQLite table when a column's
// declared size differs from the struct's).
func TestLibraryOnTheSite(t *testing.T) {
	f := newFixture(t)
	f.mustRun("", "seed-demo", "--books", "40", "--quiet")
	f.with("GATEHOUSE_SUPERUSER_PASSWORD", pw).mustRun("", "createsuperuser", "--noinput", "--username", "root", "--email", "root@example.com")
	s := f.open()
	var root1 int
	s.db.Raw("SELECT rootpage FROM sqlite_master WHERE name = 'library_books'").Scan(&root1)

	srv := httptest.NewServer(s.handler())
	t.Cleanup(srv.Close)
	jar, _ := cookiejar.New(nil)
	hc := &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	do := func(method, path string, kv ...string) (int, http.Header, string) {
		t.Helper()
		form := url.Values{}
		for i := 0; i+1 < len(kv); i += 2 {
			form.Add(kv[i], kv[i+1])
		}
		req, _ := http.NewRequest(method, srv.URL+path, strings.NewReader(form.Encode()))
		if method == http.MethodPost {
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		}
		res, err := hc.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer res.Body.Close()
		body, _ := io.ReadAll(res.Body)
		return res.StatusCode, res.Header, string(body)
	}
	status, h, _ := do("POST", "/account/login/", "login_view-current_step", "auth", "auth-username", "root", "auth-password", pw)
	if h.Get("Location") != "/account/two_factor/setup/" {
		t.Fatalf("password step: %d %q", status, h.Get("Location"))
	}
	_, _, body := do("POST", "/account/two_factor/setup/", "setup_view-current_step", "welcome")
	m := secretRE.FindStringSubmatch(body)
	if m == nil {
		t.Fatal("no secret")
	}
	code, _ := totp.GenerateCode(strings.ReplaceAll(m[1], " ", ""), time.Now())
	if status, _, _ = do("POST", "/account/two_factor/setup/", "setup_view-current_step", "generator", "generator-token", code); status != http.StatusSeeOther {
		t.Fatalf("enrolment: %d", status)
	}
	_, _, index := do("GET", "/admin/")
	for _, want := range []string{"Library", `href="/admin/library/book/"`, `href="/admin/library/author/"`, `href="/admin/library/loan/"`, `href="/admin/library/tag/"`} {
		if !strings.Contains(index, want) {
			t.Errorf("the admin index lacks %s", want)
		}
	}
	if status, _, body := do("GET", "/admin/library/book/"); status != 200 || len(rowIDs(body)) != 40 {
		t.Fatalf("book changelist: %d with %d rows", status, len(rowIDs(body)))
	}
	var perms int64
	s.db.Model(&auth.Permission{}).Where("app = ?", "library").Count(&perms)
	if perms != 16 {
		t.Errorf("library permissions: %d, want 4 models x 4", perms)
	}
	var hist int64
	if err := s.db.Table("admin_log").Count(&hist).Error; err != nil {
		t.Errorf("the site does not migrate the admin's history table: %v", err)
	}

	f.mustRun("", "migrate")
	var root2 int
	f.open().db.Raw("SELECT rootpage FROM sqlite_master WHERE name = 'library_books'").Scan(&root2)
	if root1 == 0 || root1 != root2 {
		t.Errorf("migrate rebuilt library_books (root page %d, then %d)", root1, root2)
	}
}

func TestLibraryAdmin(t *testing.T) { forEachLibraryDB(t, testLibraryAdmin) }

func testLibraryAdmin(t *testing.T, d testenv.DB) {
	app := libraryApp(t, d)
	ctx := context.Background()
	if _, err := library.Seed(ctx, app.DB, library.SeedOptions{Books: 1200, Seed: 7}); err != nil {
		t.Fatal(err)
	}
	app.User("root", true, true)
	c := app.Client()
	c.Enrol("root")
	db := app.DB

	ids := func(q string) []uint {
		t.Helper()
		r := c.Get("/admin/library/book/?" + q)
		if r.Status != 200 {
			t.Fatalf("%s: status %d %.300s", q, r.Status, r.Body)
		}
		return rowIDs(r.Body)
	}
	want := func(order string, offset int, where ...any) []uint {
		t.Helper()
		var out []uint
		q := db.Model(&library.Book{}).Order(order).Offset(offset).Limit(100)
		if len(where) > 0 {
			q = q.Where(where[0], where[1:]...)
		}
		if err := q.Pluck("id", &out).Error; err != nil {
			t.Fatal(err)
		}
		return out
	}
	same := func(what string, got, exp []uint) {
		t.Helper()
		if len(exp) == 0 || !slices.Equal(got, exp) {
			t.Errorf("%s: the changelist shows ids %v…, the database orders %v…", what, head(got), head(exp))
		}
	}
	same("default order", ids(""), want("published DESC, id DESC", 0))
	same("sorted by title", ids("o=title"), want("title ASC, id DESC", 0))
	same("sorted by -isbn", ids("o=-isbn"), want("isbn DESC", 0))
	same("filtered by genre", ids("genre=poetry"), want("published DESC, id DESC", 0, "genre = ?", "poetry"))
	same("filtered by stock", ids("in_stock=0"), want("published DESC, id DESC", 0, "in_stock = ?", false))
	same("page 2", ids("p=2"), want("published DESC, id DESC", 100))
	// From offset 1000 the page is loaded through its keys (a deferred join).
	same("deep page 12", ids("p=12"), want("published DESC, id DESC", 1100))
	same("deep page, sorted by title", ids("p=11&o=title"), want("title ASC, id DESC", 1000))

	// Search: a title word; an author's surname (through the relation).
	for _, term := range []string{"lighthouse", "Okafor"} {
		var exp []uint
		sub := db.Model(&library.Author{}).Select("id").Where("LOWER(name) LIKE ?", "%"+strings.ToLower(term)+"%")
		db.Model(&library.Book{}).Where("LOWER(title) LIKE ? OR author_id IN (?)", "%"+strings.ToLower(term)+"%", sub).
			Order("published DESC, id DESC").Limit(100).Pluck("id", &exp)
		same("search "+term, ids("q="+term), exp)
	}
	r := c.Get("/admin/library/book/?q=zzzz-nothing")
	if !strings.Contains(r.Body, "0 results") {
		t.Errorf("a search without matches must say 0 results")
	}

	// Hebrew and German labels, sidebar titles included.
	he := c.Get("/admin/library/book/?lang=he")
	for _, w := range []string{`dir="rtl"`, "ספרים", "סוגה", "במלאי", "שירה"} {
		if !strings.Contains(he.Body, w) {
			t.Errorf("Hebrew changelist lacks %q", w)
		}
	}
	de := c.Get("/admin/library/book/?lang=de")
	for _, w := range []string{"Gattung", "Vorrätig", "Erschienen", "Lyrik"} {
		if !strings.Contains(de.Body, w) {
			t.Errorf("German changelist lacks %q (filter titles and choices must be translated)", w)
		}
	}
	c.Get("/admin/?lang=en")

	// The author widget finds authors by name.
	ac := c.Get("/admin/library/book/autocomplete/?field=author_id&term=okafor")
	if ac.Status != 200 || !strings.Contains(ac.Body, "Okafor") {
		t.Errorf("author autocomplete: %d %.200s", ac.Status, ac.Body)
	}

	// Add: a bad ISBN is an error on its field; a hyphenated one is stored as digits.
	form := url.Values{"title": {"The Left Hand of Darkness"}, "isbn": {"978-0-441-47812-4"}, "author_id": {"1"}, "genre": {"scifi"},
		"published": {"1969-03-01"}, "pages": {"286"}, "price": {"9.99"}, "_save": {"1"}}
	r = c.PostForm("/admin/library/book/add/", form)
	if !strings.Contains(r.Body, "Enter a valid ISBN-13") {
		t.Fatalf("bad check digit: want the ISBN error, got %d %.300s", r.Status, r.Body)
	}
	form.Set("isbn", "978-0-441-47812-5")
	if r = c.PostForm("/admin/library/book/add/", form); r.Status != http.StatusSeeOther {
		t.Fatalf("add: %d %.500s", r.Status, r.Body)
	}
	var added library.Book
	db.Where("title = ?", "The Left Hand of Darkness").First(&added)
	if added.ISBN != "9780441478125" || added.InStock {
		t.Errorf("added book: isbn %q in stock %v (want digits only, and the unticked box false)", added.ISBN, added.InStock)
	}

	// Loans: the overdue filter and the mark-returned action.
	var overdue int64
	today := app.Clock.Now().UTC().Truncate(24 * time.Hour)
	db.Model(&library.Loan{}).Where("due < ? AND returned = ?", today, false).Count(&overdue)
	lr := c.Get("/admin/library/loan/?overdue=1")
	if lr.Status != 200 || !strings.Contains(lr.Body, fmt.Sprintf("%d results", overdue)) {
		t.Errorf("overdue filter: want %d results, got %d %.300s", overdue, lr.Status, lr.Body)
	}
	var open []uint
	db.Model(&library.Loan{}).Where("returned = ?", false).Order("id").Limit(2).Pluck("id", &open)
	r = c.PostForm("/admin/library/loan/", url.Values{"action": {"mark_returned"}, "_selected_action": {fmt.Sprint(open[0]), fmt.Sprint(open[1])}})
	if r.Status != http.StatusSeeOther {
		t.Fatalf("mark returned: %d", r.Status)
	}
	var still int64
	db.Model(&library.Loan{}).Where("id IN ? AND returned = ?", open, false).Count(&still)
	if still != 0 {
		t.Errorf("mark returned left %d loans open", still)
	}
	if r := c.Get("/admin/library/loan/"); !strings.Contains(r.Body, "2 loans marked as returned.") {
		t.Errorf("no flash after the action")
	}

	// An author with books is protected (RESTRICT): listed, refused.
	var a library.Author
	db.Joins("JOIN library_books ON library_books.author_id = library_authors.id").First(&a)
	del := c.Get(fmt.Sprintf("/admin/library/author/%d/delete/?lang=he", a.ID))
	if del.Status != 200 || !strings.Contains(del.Body, "ספר: ") || strings.Contains(del.Body, `class="danger"`) {
		t.Fatalf("the Hebrew author delete page must list the protecting books under their Hebrew model name, without a confirm: %d", del.Status)
	}
	c.Get("/admin/?lang=en")
	if r := c.Post(fmt.Sprintf("/admin/library/author/%d/delete/", a.ID)); r.Status != http.StatusConflict {
		t.Fatalf("delete an author with books: want 409, got %d", r.Status)
	}
	var left int64
	db.Model(&library.Author{}).Where("id = ?", a.ID).Count(&left)
	if left != 1 {
		t.Fatal("a protected author was deleted")
	}

	// Deleting a book takes its loans and tag links (CASCADE).
	var b library.Book
	db.Joins("JOIN library_loans ON library_loans.book_id = library_books.id").
		Joins("JOIN library_book_tags ON library_book_tags.book_id = library_books.id").First(&b)
	if r := c.Get(fmt.Sprintf("/admin/library/book/%d/delete/", b.ID)); r.Status != 200 || !strings.Contains(r.Body, "loan: ") || !strings.Contains(r.Body, `class="danger"`) {
		t.Fatalf("the book delete page must list its loans and confirm: %d", r.Status)
	}
	if r := c.Post(fmt.Sprintf("/admin/library/book/%d/delete/", b.ID)); r.Status != http.StatusSeeOther {
		t.Fatalf("delete book: %d %.300s", r.Status, r.Body)
	}
	var links, loans int64
	db.Table("library_book_tags").Where("book_id = ?", b.ID).Count(&links)
	db.Model(&library.Loan{}).Where("book_id = ?", b.ID).Count(&loans)
	if links+loans != 0 {
		t.Errorf("after deleting the book: %d tag links, %d loans remain", links, loans)
	}
}

// TestLibraryRelations: a translator's delete keeps the books and clears
// their translator (SET NULL), and the loan admin's scope (open loans only
// for staff who are not superusers) holds in the loan list, the book
// form's loans and the book delete page.
func TestLibraryRelations(t *testing.T) { forEachLibraryDB(t, testLibraryRelations) }

func testLibraryRelations(t *testing.T, d testenv.DB) {
	app := libraryApp(t, d)
	db := app.DB
	day := time.Date(2026, 1, 2, 0, 0, 0, 0, time.UTC)
	author, translator := &library.Author{Name: "Ana Author"}, &library.Author{Name: "Tom Translator"}
	must(t, db.Create(author).Error)
	must(t, db.Create(translator).Error)
	book := &library.Book{Title: "Two Loans", ISBN: "9780306406157", AuthorID: author.ID, TranslatorID: &translator.ID, Genre: "novel", Published: day, Pages: 1, Price: 1}
	must(t, db.Create(book).Error)
	must(t, db.Create(&library.Loan{BookID: book.ID, Borrower: "Open Olga", Due: day}).Error)
	must(t, db.Create(&library.Loan{BookID: book.ID, Borrower: "Returned Rita", Due: day, Returned: true}).Error)

	app.User("root", true, true)
	root := app.Client()
	root.Enrol("root")
	u := app.User("clerk", true, false)
	var perms []auth.Permission
	must(t, db.Where("app = ? AND codename IN ?", library.App, []string{"view_loan", "change_loan", "delete_loan", "view_book", "change_book", "delete_book", "view_author"}).Find(&perms).Error)
	must(t, db.Model(u).Association("Permissions").Append(perms))
	clerk := app.Client()
	clerk.Enrol("clerk")

	bookPath := fmt.Sprintf("/admin/library/book/%d/", book.ID)
	scoped := []struct {
		name, path string
		c          *authtest.Client
		want, hide []string
	}{
		{"loan list, superuser", "/admin/library/loan/", root, []string{"Open Olga", "Returned Rita"}, nil},
		{"loan list, staff", "/admin/library/loan/", clerk, []string{"Open Olga", "1 result"}, []string{"Returned Rita"}},
		{"book form loans, staff", bookPath + "change/", clerk, []string{"Open Olga"}, []string{"Returned Rita"}},
		{"book delete page, staff", bookPath + "delete/", clerk, []string{"Open Olga", "1 more"}, []string{"Returned Rita"}},
		{"book delete page, superuser", bookPath + "delete/", root, []string{"Open Olga", "Returned Rita"}, nil},
	}
	for _, tc := range scoped {
		t.Run(tc.name, func(t *testing.T) {
			r := tc.c.Get(tc.path)
			if r.Status != http.StatusOK {
				t.Fatalf("%s: want 200, got %d", tc.path, r.Status)
			}
			for _, w := range tc.want {
				if !strings.Contains(r.Body, w) {
					t.Errorf("%s lacks %q", tc.path, w)
				}
			}
			for _, h := range tc.hide {
				if strings.Contains(r.Body, h) {
					t.Errorf("%s shows %q, outside the loan admin's scope", tc.path, h)
				}
			}
		})
	}

	path := fmt.Sprintf("/admin/library/author/%d/delete/", translator.ID)
	if r := root.Get(path); r.Status != http.StatusOK || !strings.Contains(r.Body, "Two Loans") || !strings.Contains(r.Body, "will be kept") {
		t.Fatalf("the translator's delete page must list the book as unlinked: %d", r.Status)
	}
	if r := root.Post(path); r.Status != http.StatusSeeOther {
		t.Fatalf("delete translator: want 303, got %d", r.Status)
	}
	var got library.Book
	must(t, db.First(&got, book.ID).Error)
	if got.TranslatorID != nil {
		t.Fatal("SET NULL: the book still names its deleted translator")
	}
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

func head(ids []uint) []uint { return ids[:min(len(ids), 5)] }

// TestLibraryMessages: every message id the library registration uses is
// in English, German and Hebrew, with the plural forms each needs.
func TestLibraryMessages(t *testing.T) {
	type msg map[string]string
	read := func(tag string) map[string]msg {
		out := map[string]msg{}
		files, _ := fs.Glob(locales.FS, "*."+tag+".toml")
		for _, f := range files {
			part := map[string]msg{}
			if _, err := toml.DecodeFS(locales.FS, f, &part); err != nil {
				t.Fatal(err)
			}
			for k, v := range part {
				out[k] = v
			}
		}
		return out
	}
	ids := []string{"admin_app_library", "admin_inline_loans", "library_fieldset_publication", "library_filter_overdue", "library_filter_overdue_yes",
		"library_col_days_overdue", "library_action_mark_out_of_stock", "library_marked_out_of_stock", "library_action_mark_returned",
		"library_marked_returned", "library_isbn_invalid", "library_published_future", "library_pages_negative", "library_price_negative"}
	for _, m := range []string{"author", "book", "tag", "loan"} {
		ids = append(ids, "library_"+m, "library_"+m+"s")
	}
	for _, g := range library.Genres {
		ids = append(ids, g.Label)
	}
	cols := map[string][]string{
		"author": {"name", "email", "birth_date"}, "tag": {"name"},
		"book": {"title", "isbn", "author_id", "genre", "published", "pages", "price", "in_stock", "tags"},
		"loan": {"book_id", "borrower", "due", "returned"},
	}
	for m, cs := range cols {
		for _, c := range cs {
			ids = append(ids, "admin_field_library_"+m+"_"+c)
		}
	}
	forms := map[string][]string{"en": {"one", "other"}, "de": {"one", "other"}, "he": {"one", "two", "other"}}
	en := read("en")
	for tag, plural := range forms {
		cat := read(tag)
		for _, id := range ids {
			m, ok := cat[id]
			if !ok || m["other"] == "" {
				t.Errorf("%s: message %s is missing", tag, id)
				continue
			}
			if en[id]["description"] == "" {
				t.Errorf("en: %s has no description", id)
			}
			if _, isPlural := en[id]["one"]; isPlural {
				for _, f := range plural {
					if m[f] == "" {
						t.Errorf("%s: %s lacks the plural form %q", tag, id, f)
					}
				}
			}
		}
	}
}

// TestISBN checks the normaliser the book form uses.
func TestISBN(t *testing.T) {
	for in, want := range map[string]bool{
		"9780441478125": true, "978-0-441-47812-5": true, "978 0 441 47812 5": true,
		"9780441478124": false, "978044147812": false, "97804414781250": false, "978O441478125": false, "": false,
	} {
		if _, ok := library.NormalizeISBN(in); ok != want {
			t.Errorf("NormalizeISBN(%q) ok = %v, want %v", in, ok, want)
		}
	}
}

// TestBenchAdmin runs the benchmark command briefly on a small seed: it
// logs in through the two-factor flow, measures, and leaves no user,
// device or session behind.
func TestBenchAdmin(t *testing.T) {
	f := newFixture(t)
	if r := f.run("", "bench-admin", "--duration", "100ms"); r.code == 0 || !strings.Contains(r.stderr, "seed-demo") {
		t.Errorf("on an empty library: want a hint to seed first, got %d %q", r.code, r.stderr)
	}
	f.mustRun("", "seed-demo", "--books", "300", "--quiet")
	r := f.mustRun("", "bench-admin", "--duration", "100ms", "--concurrency", "2")
	for _, w := range []string{"default order (-published)", "search author surname", "page 50                      skipped", "Target: p95 under 50 ms"} {
		if !strings.Contains(r.stdout, w) {
			t.Errorf("output lacks %q:\n%s", w, r.stdout)
		}
	}
	if m := regexp.MustCompile(`(?m)^default order \(-published\)\s+\d+\s+(\d+)\s`).FindStringSubmatch(r.stdout); m == nil || m[1] == "0" {
		t.Errorf("no requests measured:\n%s", r.stdout)
	}
	db := f.open().db
	var users, devices, sessions int64
	db.Model(&auth.User{}).Count(&users)
	db.Table("otp_totp_device").Count(&devices)
	db.Table("gatehouse_session").Count(&sessions)
	if users+devices+sessions != 0 {
		t.Errorf("left behind: %d users, %d devices, %d sessions", users, devices, sessions)
	}
	for _, bad := range [][]string{{"--concurrency", "0"}, {"--duration", "2m"}} {
		if r := f.run("", append([]string{"bench-admin"}, bad...)...); r.code == 0 {
			t.Errorf("bench-admin %v: want a failure", bad)
		}
	}
}
