package admin_test

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/gin-gonic/gin"
	"gorm.io/gorm"

	"github.com/gatehouse/gatehouse/admin"
	"github.com/gatehouse/gatehouse/auth"
	"github.com/gatehouse/gatehouse/auth/authtest"
	"github.com/gatehouse/gatehouse/internal/testenv"
)

type Author struct {
	ID    uint   `gorm:"primaryKey"`
	Name  string `gorm:"size:100;not null"`
	Email string `gorm:"size:254"`
	Books []Book
}

func (a *Author) String() string { return a.Name }

type Tag struct {
	ID   uint   `gorm:"primaryKey"`
	Name string `gorm:"size:50;not null;uniqueIndex"`
}

func (t *Tag) String() string { return t.Name }

type Book struct {
	ID        uint      `gorm:"primaryKey"`
	Title     string    `gorm:"size:200;not null;index"`
	ISBN      string    `gorm:"column:isbn;size:20;not null;uniqueIndex"`
	AuthorID  uint      `gorm:"not null;index"`
	Author    *Author   `gorm:"constraint:OnDelete:CASCADE"`
	Genre     string    `gorm:"size:20;not null"`
	Published time.Time `gorm:"type:date;index"`
	Pages     int       `gorm:"not null;default:0"`
	Price     float64   `gorm:"type:decimal(10,2);scale:2"`
	InStock   bool      `gorm:"not null;default:true"`
	Website   string    `gorm:"size:200"`
	Secret    string    `gorm:"column:api_key;size:64"`
	Tags      []Tag     `gorm:"many2many:book_tags"`
	Loans     []Loan    `gorm:"constraint:OnDelete:CASCADE"`
}

func (b *Book) String() string { return b.Title }

type Loan struct {
	ID       uint      `gorm:"primaryKey"`
	BookID   uint      `gorm:"not null;index"`
	Borrower string    `gorm:"size:100;not null"`
	Due      time.Time `gorm:"type:date"`
	Returned bool
}

func (l *Loan) String() string { return l.Borrower }

var genres = []admin.Choice{{Value: "novel", Label: "Novel"}, {Value: "poetry", Label: "Poetry"}, {Value: "science", Label: "Science"}}

// newLibrary is a site with the library models registered.
func newLibrary(t *testing.T, db ...testenv.DB) (*authtest.App, *admin.Site) {
	t.Helper()
	var site *admin.Site
	var d testenv.DB
	if len(db) > 0 {
		d = db[0]
	}
	app := authtest.New(t, authtest.Options{DB: d, Mount: func(s *auth.Service, e *gin.Engine) {
		if err := s.DB().AutoMigrate(&Author{}, &Tag{}, &Book{}, &Loan{}); err != nil {
			t.Fatal(err)
		}
		site = admin.NewSite(s, admin.Options{})
		admin.Register(site, admin.ModelAdmin[Author]{App: "library", ListDisplay: []string{"name", "email"}, SearchFields: []string{"name"}})
		admin.Register(site, admin.ModelAdmin[Tag]{App: "library", ListDisplay: []string{"name"}, SearchFields: []string{"name"}})
		admin.Register(site, admin.ModelAdmin[Book]{
			App: "library", ListDisplay: []string{"title", "isbn", "author_id", "genre", "published", "price", "in_stock", "website", "tags"},
			SearchFields: []string{"title", "isbn", "author.name"},
			ListFilter:   []admin.Filter{admin.BoolFilter("in_stock"), admin.ChoiceFilter("genre"), admin.ForeignKeyFilter("author_id"), admin.DateFilter("published")},
			Ordering:     []string{"-published", "title"},
			Choices:      map[string][]admin.Choice{"genre": genres},
			Fields:       []string{"title", "isbn", "author_id", "genre", "published", "pages", "price", "in_stock", "website", "tags"},
			Inlines:      []admin.Inline{{Field: "Loans", Fields: []string{"borrower", "due", "returned"}}},
			PerPage:      5, MaxShowAll: 20,
			Actions: []admin.Action[Book]{{Name: "mark_out", Label: "Mark out of stock", Run: func(c *gin.Context, db *gorm.DB, rows []Book) (string, error) {
				ids := make([]uint, len(rows))
				for i, r := range rows {
					ids[i] = r.ID
				}
				return fmt.Sprintf("%d marked", len(rows)), db.Model(&Book{}).Where("id IN ?", ids).Update("in_stock", false).Error
			}}},
		})
		admin.Register(site, admin.ModelAdmin[Loan]{App: "library", ListDisplay: []string{"borrower", "book_id", "due", "returned"}})
		if err := site.Migrate(context.Background()); err != nil {
			t.Fatal(err)
		}
		site.Mount(e)
	}})
	return app, site
}

func seedBooks(t *testing.T, app *authtest.App, n int) {
	t.Helper()
	a1, a2 := &Author{Name: "Ursula Le Guin"}, &Author{Name: "Italo Calvino"}
	app.DB.Create(a1)
	app.DB.Create(a2)
	for i := 0; i < n; i++ {
		a := a1
		if i%2 == 1 {
			a = a2
		}
		b := &Book{Title: fmt.Sprintf("Book %02d", i), ISBN: fmt.Sprintf("978-%04d", i), AuthorID: a.ID, Genre: genres[i%3].Value,
			Published: time.Date(2000+i, 1, 2, 0, 0, 0, 0, time.UTC), Pages: 100 + i, Price: 9.5 + float64(i), InStock: i%2 == 0}
		inStock := b.InStock
		if err := app.DB.Create(b).Error; err != nil {
			t.Fatal(err)
		}
		app.DB.Model(b).Update("in_stock", inStock) // gorm inserts the column default for false
	}
}

func superuser(t *testing.T, app *authtest.App) *authtest.Client {
	app.User("root", true, true)
	c := app.Client()
	c.Enrol("root")
	return c
}

func TestChangelist(t *testing.T) { forEachDB(t, testChangelist) }

func testChangelist(t *testing.T, d testenv.DB) {
	app, _ := newLibrary(t, d)
	seedBooks(t, app, 12)
	c := superuser(t, app)
	r := c.Get("/admin/library/book/")
	if r.Status != 200 || !strings.Contains(r.Body, "12 results") || strings.Count(r.Body, `name="_selected_action"`) != 5 {
		t.Fatalf("changelist: %d, want 12 results with 5 rows: %.500s", r.Status, r.Body)
	}
	cases := []struct {
		name, query string
		want        []string
		notWant     []string
	}{
		{"search title", "q=book+03", []string{"1 result", "Book 03"}, []string{"Book 04"}},
		{"search through author", "q=calvino", []string{"6 results"}, nil},
		{"search wildcard is literal", "q=%25", []string{"0 results"}, nil},
		{"filter bool", "in_stock=1", []string{"6 results"}, nil},
		{"filter choice", "genre=poetry", []string{"4 results"}, nil},
		{"sort ascending", "o=title", []string{"Book 00"}, []string{"Book 11"}},
		{"sort two columns", "o=-genre.title", []string{"Book 01"}, nil},
		{"page 3", "p=3&o=title", []string{"Book 10", "Book 11"}, []string{"Book 09"}},
		{"show all", "all=1", []string{"Book 00", "Book 11"}, nil},
		{"date filter", "published__gte=2005-01-01&published__lt=2007-01-01", []string{"2 results"}, nil},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			r := c.Get("/admin/library/book/?" + tc.query)
			if r.Status != 200 {
				t.Fatalf("status %d: %.300s", r.Status, r.Body)
			}
			for _, w := range tc.want {
				if !strings.Contains(r.Body, w) {
					t.Errorf("missing %q", w)
				}
			}
			for _, w := range tc.notWant {
				if strings.Contains(r.Body, w) {
					t.Errorf("unexpected %q", w)
				}
			}
		})
	}
	// htmx gets only the results fragment, with Vary.
	h := c.Get("/admin/library/book/?q=book", "HX-Request", "true")
	if !strings.HasPrefix(strings.TrimSpace(h.Body), `<div id="changelist"`) || !strings.Contains(h.Header.Get("Vary"), "HX-Request") {
		t.Fatalf("htmx changelist must return the #changelist fragment: %.200s", h.Body)
	}
}

func TestDisallowedLookups(t *testing.T) {
	app, _ := newLibrary(t)
	seedBooks(t, app, 3)
	c := superuser(t, app)
	for _, q := range []string{
		"o=api_key", "o=pages", "o=title;DROP TABLE books", "o=-", "o=title.title", "api_key=x", "pages=1", "author__name=x",
		"p=0", "p=-1", "p=abc", "p=01", "all=2", "in_stock=yes", "genre=comic", "author_id=1%20OR%201=1", "author_id=01",
		"published__gte=yesterday", "q=a&q=b",
	} {
		r := c.Get("/admin/library/book/?" + q)
		if r.Status != http.StatusBadRequest {
			t.Errorf("%s: want 400, got %d", q, r.Status)
		}
	}
	if r := c.Get("/admin/library/book/?p=99"); r.Status != http.StatusNotFound {
		t.Errorf("page past the end: want 404, got %d", r.Status)
	}
}

func TestSQLInjectionPayloads(t *testing.T) { forEachDB(t, testSQLInjectionPayloads) }

func testSQLInjectionPayloads(t *testing.T, d testenv.DB) {
	app, _ := newLibrary(t, d)
	seedBooks(t, app, 3)
	c := superuser(t, app)
	payloads := []string{`' OR '1'='1`, `"; DROP TABLE book; --`, `%' UNION SELECT password FROM auth_user --`, `\`, `1) OR (1=1`, `' || (SELECT password FROM auth_user) || '`}
	for _, p := range payloads {
		for _, key := range []string{"q", "o", "p", "genre", "author_id", "published__gte"} {
			r := c.Get("/admin/library/book/?" + url.Values{key: {p}}.Encode())
			// The search takes any text; every other key has a type and
			// answers 400 to a value outside it.
			want := http.StatusBadRequest
			if key == "q" {
				want = http.StatusOK
			}
			if r.Status != want || strings.Contains(r.Body, "argon2id") || strings.Contains(strings.ToLower(r.Body), "syntax error") {
				t.Errorf("%s=%q: want %d with nothing leaked, got %d", key, p, want, r.Status)
			}
			if key == "q" && (r.Status != 200 || !strings.Contains(r.Body, "0 results")) {
				t.Errorf("search %q must find nothing, got %d", p, r.Status)
			}
		}
	}
	var n int64
	app.DB.Model(&Book{}).Count(&n)
	if n != 3 {
		t.Fatalf("books table changed: %d rows", n)
	}
}

func TestAddChangeDeleteHistory(t *testing.T) { forEachDB(t, testAddChangeDeleteHistory) }

func testAddChangeDeleteHistory(t *testing.T, d testenv.DB) {
	app, _ := newLibrary(t, d)
	seedBooks(t, app, 2)
	c := superuser(t, app)
	var tag Tag
	app.DB.Create(&Tag{Name: "classic"})
	app.DB.First(&tag)
	form := url.Values{"title": {"The Dispossessed"}, "isbn": {"978-0000"}, "author_id": {"1"}, "genre": {"novel"}, "published": {"1974-05-01"},
		"pages": {"387"}, "price": {"12.50"}, "in_stock": {"on"}, "tags": {fmt.Sprint(tag.ID)}, "_save": {"1"},
		"api_key": {"stolen"}, "id": {"999"}}
	// Duplicate ISBN: an error on its field, not a 500.
	r := c.PostForm("/admin/library/book/add/", form)
	if r.Status != 200 || !strings.Contains(r.Body, "A book with this Isbn already exists") && !strings.Contains(r.Body, "already exists") {
		t.Fatalf("duplicate isbn: want a field error, got %d %.300s", r.Status, r.Body)
	}
	form.Set("isbn", "978-9999")
	form.Set("pages", "many")
	if r := c.PostForm("/admin/library/book/add/", form); !strings.Contains(r.Body, "Enter a whole number") {
		t.Fatalf("bad integer: want a field error")
	}
	form.Set("pages", "387")
	form.Set("title", "")
	if r := c.PostForm("/admin/library/book/add/", form); !strings.Contains(r.Body, "This field is required") {
		t.Fatalf("NOT NULL title: want required error")
	}
	form.Set("title", "The Dispossessed")
	r = c.PostForm("/admin/library/book/add/", form)
	if r.Status != http.StatusSeeOther || r.Location() != "/admin/library/book/" {
		t.Fatalf("add: want redirect to changelist, got %d %q %.500s", r.Status, r.Location(), r.Body)
	}
	var b Book
	app.DB.Preload("Tags").Where("isbn = ?", "978-9999").First(&b)
	if b.ID == 999 || b.Secret != "" || len(b.Tags) != 1 || b.Price != 12.5 {
		t.Fatalf("undeclared fields were bound or fields lost: id %d secret %q tags %d price %v", b.ID, b.Secret, len(b.Tags), b.Price)
	}
	if r := c.Get("/admin/library/book/"); !strings.Contains(r.Body, "was added successfully") {
		t.Errorf("no flash message after add")
	}
	// An unticked box is stored as false, not as the column's default (true).
	f2 := url.Values{"title": {"Unstocked"}, "isbn": {"978-5555"}, "author_id": {"1"}, "genre": {"novel"}, "published": {"2001-01-01"}, "pages": {"1"}, "price": {"1"}, "_addanother": {"1"}}
	if r := c.PostForm("/admin/library/book/add/", f2); r.Location() != "/admin/library/book/add/" {
		t.Fatalf("save and add another: %q", r.Location())
	}
	var unstocked Book
	app.DB.Where("isbn = ?", "978-5555").First(&unstocked)
	if unstocked.InStock {
		t.Fatal("an unticked checkbox was stored as true")
	}
	id := fmt.Sprint(b.ID)
	form.Set("title", "The Dispossessed (2nd ed.)")
	form.Del("_save")
	form.Set("_continue", "1")
	if r := c.PostForm("/admin/library/book/"+id+"/change/", form); r.Location() != "/admin/library/book/"+id+"/change/" {
		t.Fatalf("save and continue: %d %q", r.Status, r.Location())
	}
	h := c.Get("/admin/library/book/" + id + "/history/")
	if !strings.Contains(h.Body, "Added") || !strings.Contains(h.Body, "Changed") || !strings.Contains(h.Body, "Title") || !strings.Contains(h.Body, "root") {
		t.Fatalf("history must show who added and which fields changed: %.800s", h.Body)
	}
	// Inline: add a loan on the change form.
	form.Set("loans-TOTAL_FORMS", "1")
	form.Set("loans-0-borrower", "Shevek")
	form.Set("loans-0-due", "2026-02-01")
	if r := c.PostForm("/admin/library/book/"+id+"/change/", form); r.Status != http.StatusSeeOther {
		t.Fatalf("inline add: %d %.400s", r.Status, r.Body)
	}
	var loans int64
	app.DB.Model(&Loan{}).Where("book_id = ?", b.ID).Count(&loans)
	if loans != 1 {
		t.Fatalf("inline loan not saved")
	}
	// Delete lists the loan that goes with it.
	del := c.Get("/admin/library/book/" + id + "/delete/")
	if !strings.Contains(del.Body, "Shevek") || !strings.Contains(del.Body, "Tags: 1") {
		t.Fatalf("delete confirmation must list cascaded objects: %.600s", del.Body)
	}
	if r := c.Post("/admin/library/book/" + id + "/delete/"); r.Location() != "/admin/library/book/" {
		t.Fatalf("delete: %d", r.Status)
	}
	app.DB.Model(&Loan{}).Where("book_id = ?", b.ID).Count(&loans)
	if loans != 0 {
		t.Fatalf("loan survived its book")
	}
	for _, bad := range []string{"01", "-1", "1.0", "abc", "99999"} {
		if r := c.Get("/admin/library/book/" + bad + "/change/"); r.Status != http.StatusNotFound {
			t.Errorf("id %q: want 404, got %d", bad, r.Status)
		}
	}
}

func TestBulkActions(t *testing.T) { forEachDB(t, testBulkActions) }

func testBulkActions(t *testing.T, d testenv.DB) {
	app, _ := newLibrary(t, d)
	seedBooks(t, app, 4)
	c := superuser(t, app)
	r := c.PostForm("/admin/library/book/", url.Values{"action": {"delete_selected"}, "_selected_action": {"1", "2"}})
	if r.Status != 200 || !strings.Contains(r.Body, "Book 00") || !strings.Contains(r.Body, `name="post" value="yes"`) {
		t.Fatalf("delete_selected must confirm first: %d", r.Status)
	}
	var n int64
	app.DB.Model(&Book{}).Count(&n)
	if n != 4 {
		t.Fatal("deleted before confirmation")
	}
	c.PostForm("/admin/library/book/", url.Values{"action": {"delete_selected"}, "post": {"yes"}, "_selected_action": {"1", "2"}})
	app.DB.Model(&Book{}).Count(&n)
	if n != 2 {
		t.Fatalf("bulk delete: %d left", n)
	}
	c.PostForm("/admin/library/book/", url.Values{"action": {"mark_out"}, "_selected_action": {"3"}})
	var b Book
	app.DB.First(&b, 3)
	if b.InStock {
		t.Fatal("custom action did not run")
	}
	if r := c.PostForm("/admin/library/book/", url.Values{"action": {"drop_table"}, "_selected_action": {"3"}}); r.Status != 400 {
		t.Fatalf("unknown action: want 400, got %d", r.Status)
	}
}

func TestXSSEscaped(t *testing.T) {
	app, _ := newLibrary(t)
	c := superuser(t, app)
	x := `<script>alert(1)</script>"'><img src=x onerror=alert(2)>`
	a := &Author{Name: x, Email: x}
	app.DB.Create(a)
	b := &Book{Title: x, ISBN: "1", AuthorID: a.ID, Genre: "novel", Website: "javascript:alert(3)", Published: time.Now()}
	app.DB.Create(b)
	app.DB.Create(&Book{Title: "ok", ISBN: "2", AuthorID: a.ID, Genre: "novel", Website: "https://example.com/x", Published: time.Now()})
	form := url.Values{"title": {x}, "isbn": {"1"}, "author_id": {fmt.Sprint(a.ID)}, "genre": {"novel"}, "published": {"2020-01-01"}, "price": {"1"}, "pages": {"1"}, "_save": {"1"}}
	if r := c.PostForm(fmt.Sprintf("/admin/library/book/%d/change/", b.ID), form); r.Status != http.StatusSeeOther || r.Location() != "/admin/library/book/" {
		t.Fatalf("saving the payload: want 303 to the changelist, got %d %q", r.Status, r.Location())
	}
	for _, path := range []string{"/admin/library/book/", fmt.Sprintf("/admin/library/book/%d/change/", b.ID), fmt.Sprintf("/admin/library/book/%d/history/", b.ID), "/admin/library/author/", "/admin/", fmt.Sprintf("/admin/library/book/%d/delete/", b.ID)} {
		r := c.Get(path)
		// An error page holds no payload: the page itself must render.
		if r.Status != http.StatusOK || !strings.Contains(r.Body, "&lt;script&gt;alert(1)&lt;/script&gt;") {
			t.Errorf("%s: want 200 showing the escaped payload, got %d", path, r.Status)
		}
		if strings.Contains(r.Body, "<script>alert") || strings.Contains(r.Body, "<img src=x") {
			t.Errorf("%s: unescaped payload", path)
		}
		if strings.Contains(r.Body, `href="javascript:`) {
			t.Errorf("%s: javascript: URL became a link", path)
		}
	}
	if r := c.Get("/admin/library/book/"); !strings.Contains(r.Body, `href="https://example.com/x"`) {
		t.Errorf("an https URL value should be a link")
	}
}

func TestPermissions(t *testing.T) {
	app, _ := newLibrary(t)
	seedBooks(t, app, 2)
	u := app.User("clerk", true, false)
	c := app.Client()
	c.Enrol("clerk")
	paths := []struct{ method, path string }{
		{"GET", "/admin/library/book/"}, {"GET", "/admin/library/book/add/"}, {"GET", "/admin/library/book/1/change/"},
		{"GET", "/admin/library/book/1/delete/"}, {"GET", "/admin/library/book/1/history/"}, {"POST", "/admin/library/book/"},
		{"POST", "/admin/library/book/1/delete/"}, {"POST", "/admin/library/book/1/change/"}, {"POST", "/admin/library/book/add/"},
	}
	for _, p := range paths {
		var r *authtest.Response
		if p.method == "GET" {
			r = c.Get(p.path)
		} else {
			r = c.PostForm(p.path, url.Values{"action": {"delete_selected"}, "_selected_action": {"1"}, "post": {"yes"}, "title": {"x"}})
		}
		if r.Status != http.StatusForbidden {
			t.Errorf("%s %s without permission: want 403, got %d", p.method, p.path, r.Status)
		}
	}
	if r := c.Get("/admin/"); strings.Contains(r.Body, "/admin/library/book/") {
		t.Errorf("index shows a model the user may not view")
	}
	// Grant view through a group: the list opens, changes stay closed.
	var perm auth.Permission
	app.DB.Where("app = ? AND codename = ?", "library", "view_book").First(&perm)
	g := auth.Group{Name: "readers", Permissions: []auth.Permission{perm}}
	app.DB.Create(&g)
	app.DB.Model(u).Association("Groups").Append(&g)
	if r := c.Get("/admin/library/book/"); r.Status != 200 || strings.Contains(r.Body, "delete_selected") {
		t.Fatalf("view permission: list must open without delete action, got %d", r.Status)
	}
	if r := c.PostForm("/admin/library/book/1/change/", url.Values{"title": {"hacked"}}); r.Status != http.StatusForbidden {
		t.Fatalf("view-only user changed a book: %d", r.Status)
	}
	if r := c.Get("/admin/auth/user/"); r.Status != http.StatusForbidden {
		t.Fatalf("user admin without permission: %d", r.Status)
	}
}

func TestUserAdminNeverShowsSecrets(t *testing.T) {
	app, _ := newLibrary(t)
	c := superuser(t, app)
	u := app.User("ana", true, false)
	app.Client().Enrol("ana")
	for _, p := range []string{"/admin/auth/user/", fmt.Sprintf("/admin/auth/user/%d/change/", u.ID), fmt.Sprintf("/admin/auth/user/%d/security/", u.ID), "/admin/otp/totpdevice/", "/admin/otp/totpdevice/1/change/"} {
		r := c.Get(p)
		if r.Status != 200 {
			t.Fatalf("%s: %d", p, r.Status)
		}
		if strings.Contains(r.Body, "argon2id") || strings.Contains(r.Body, "sealed") {
			t.Errorf("%s shows a secret", p)
		}
	}
	for _, q := range []string{"o=password", "password=x", "q=argon2id"} {
		r := c.Get("/admin/auth/user/?" + q)
		if q == "q=argon2id" {
			if !strings.Contains(r.Body, "0 results") {
				t.Errorf("search matched the password hash")
			}
			continue
		}
		if r.Status != 400 {
			t.Errorf("%s: want 400, got %d", q, r.Status)
		}
	}
	// Posting a password to the user form changes nothing.
	before := *u
	c.PostForm(fmt.Sprintf("/admin/auth/user/%d/change/", u.ID), url.Values{"username": {"ana"}, "password": {"x"}, "epoch": {"99"}, "is_active": {"on"}, "is_staff": {"on"}, "_save": {"1"}})
	var after auth.User
	app.DB.First(&after, u.ID)
	if after.Password != before.Password || after.Epoch != before.Epoch {
		t.Fatal("the user form bound the password or epoch")
	}
	// A superuser removes the user's devices from the security page.
	r := c.PostForm(fmt.Sprintf("/admin/auth/user/%d/security/", u.ID), url.Values{"op": {"remove_devices"}})
	if r.Status != http.StatusSeeOther {
		t.Fatalf("remove devices: %d", r.Status)
	}
	if on, _ := app.Service.TwoFactorEnabled(t.Context(), u); on {
		t.Fatal("devices remain")
	}
}

func forEachDB(t *testing.T, f func(*testing.T, testenv.DB)) {
	for _, d := range testenv.DBs(t) {
		t.Run(d.Name, func(t *testing.T) { f(t, d) })
	}
}
