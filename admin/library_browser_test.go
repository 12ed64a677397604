package admin_test

import (
	"context"
	"fmt"
	"os"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"
	"github.com/gin-gonic/gin"
	"gorm.io/gorm"

	"github.com/gatehouse/gatehouse/admin"
	"github.com/gatehouse/gatehouse/auth"
	"github.com/gatehouse/gatehouse/auth/authtest"
	"github.com/gatehouse/gatehouse/cmd/site/library"
)

// TestBrowserLibrary walks the demo library's book admin in one real
// Chromium: login with forced TOTP enrolment, search, filter, sort and
// the back button, paging, an add with a validation error, a change, the
// history, a delete with its confirmation, a bulk delete, and the Hebrew
// changelist laid out right-to-left. Screenshots go to the artifacts
// directory (10-… to 14-…).
func TestBrowserLibrary(t *testing.T) {
	exe := findChromium(t)
	if os.Getenv("GATEHOUSE_BROWSER_NO_HTMX") == "1" {
		// Without JavaScript the author field's autocomplete widget offers
		// no authors to pick, so a book cannot be added.
		t.Skip("the library journey needs htmx (the author autocomplete has no plain-form fallback)")
	}
	app := authtest.New(t, authtest.Options{Mount: func(s *auth.Service, e *gin.Engine) {
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
	// 250 books: three pages of 100.
	if _, err := library.Seed(context.Background(), app.DB, library.SeedOptions{Books: 250, Seed: 1}); err != nil {
		t.Fatal(err)
	}
	app.User("root", true, true)
	db := app.DB
	b := newBrowser(t, exe, app.URL())

	const list = "/admin/library/book/"
	// firstRow is the title in the changelist's first row.
	firstRow := func(dst *string) chromedp.Action {
		return chromedp.Text("#changelist tbody tr:first-child th", dst, chromedp.ByQuery)
	}
	rows := func(dst *int) chromedp.Action {
		return chromedp.Evaluate(`document.querySelectorAll("#changelist tbody tr").length`, dst)
	}
	expectTitles := func(q *gorm.DB, offset int) []string {
		var out []string
		if err := q.Offset(offset).Limit(100).Pluck("title", &out).Error; err != nil {
			t.Fatal(err)
		}
		return out
	}
	books := func() *gorm.DB { return db.Model(&library.Book{}) }

	// 1. Login: the book list sends an anonymous visitor to the login,
	// forced enrolment, then back to the list.
	b.step("open the book list anonymously and land on the login page",
		b.open(list),
		waitPage("/account/login/?next=%2Fadmin%2Flibrary%2Fbook%2F"),
		chromedp.WaitVisible("#id_auth-username", chromedp.ByQuery),
		chromedp.SendKeys("#id_auth-username", "root", chromedp.ByQuery),
		chromedp.SendKeys("#id_auth-password", authtest.Password, chromedp.ByQuery),
		chromedp.Click(byText("button", "Next"), chromedp.BySearch),
		waitPage("/account/two_factor/setup/"),
		chromedp.WaitVisible(byText("button", "Next"), chromedp.BySearch),
	)
	var secret string
	b.step("setup wizard: welcome, then the authenticator secret",
		chromedp.Click(byText("button", "Next"), chromedp.BySearch),
		chromedp.WaitVisible("#totp-secret", chromedp.ByQuery),
		chromedp.Text("#totp-secret", &secret, chromedp.ByQuery),
	)
	secret = strings.ReplaceAll(strings.TrimSpace(secret), " ", "")
	b.step("setup wizard: type the code, continue to the book list",
		chromedp.SendKeys("#id_generator-token", app.Code(secret, 0), chromedp.ByQuery),
		chromedp.Click(byText("button", "Next"), chromedp.BySearch),
		waitPage("/account/two_factor/setup/complete/"),
		chromedp.Click(byText("a", "Continue"), chromedp.BySearch),
		waitPage(list),
		chromedp.WaitVisible("#changelist tbody tr", chromedp.ByQuery),
	)
	var first string
	var n int
	b.step("the book list shows 100 rows, newest first", firstRow(&first), rows(&n))
	if want := expectTitles(books().Order("published DESC, id DESC"), 0); n != 100 || first != want[0] {
		t.Errorf("the first page shows %d rows starting with %q, want 100 starting with %q", n, first, want[0])
	}
	b.screenshot("10-library-changelist.png")

	// 2. Search: typing updates the list and the URL.
	b.step("type a search and see the URL and the list change",
		chromedp.SendKeys("#searchbar", "garden", chromedp.ByQuery),
		waitPage(list+"?q=garden"),
		waitTrue("the list shows only matches", `[...document.querySelectorAll("#changelist tbody tr")].length > 0 && [...document.querySelectorAll("#changelist tbody tr")].every(r => /garden/i.test(r.innerText))`),
		rows(&n),
	)
	var matches int64
	books().Joins("JOIN library_authors a ON a.id = library_books.author_id").
		Where("LOWER(title) LIKE ? OR LOWER(a.name) LIKE ?", "%garden%", "%garden%").Count(&matches)
	if int64(n) != min(matches, 100) {
		t.Errorf("searching garden shows %d rows, the database has %d matches", n, matches)
	}

	// 3. Filter: a genre link in the sidebar keeps the search.
	b.step("click the Novel filter: the URL keeps the search and adds the genre",
		chromedp.Click(`//aside//a[normalize-space()="Novel"]`, chromedp.BySearch),
		waitPage(list+"?genre=novel&q=garden"),
		waitTrue("the Novel filter is marked current", `[...document.querySelectorAll('aside a[aria-current="true"]')].some(a => a.innerText.trim() === "Novel")`),
		rows(&n),
	)
	var novel int64
	books().Joins("JOIN library_authors a ON a.id = library_books.author_id").
		Where("genre = ? AND (LOWER(title) LIKE ? OR LOWER(a.name) LIKE ?)", "novel", "%garden%", "%garden%").Count(&novel)
	if int64(n) != novel {
		t.Errorf("garden novels: %d rows shown, %d in the database", n, novel)
	}

	// 4. Sort, then back: the previous list returns.
	var before, back string
	byTitle := expectTitles(books().Order("title ASC, id DESC"), 0)
	b.step("open the whole list again", b.open(list), chromedp.WaitVisible("#changelist tbody tr", chromedp.ByQuery), firstRow(&before))
	b.step("click the Title header: the URL and the order change",
		chromedp.Click(`//th/a[normalize-space()="Title"]`, chromedp.BySearch),
		waitPage(list+"?o=title"),
		waitTrue("the list is sorted by title", fmt.Sprintf(`(document.querySelector("#changelist tbody tr:first-child th")||{}).innerText === %q`, byTitle[0])),
	)
	b.step("press the back button: the previous URL and list return",
		chromedp.NavigateBack(),
		waitPage(list),
		waitTrue("the newest-first list is back", fmt.Sprintf(`(document.querySelector("#changelist tbody tr:first-child th")||{}).innerText === %q`, before)),
		firstRow(&back),
	)
	if back != before {
		t.Errorf("after back the first row is %q, want %q", back, before)
	}

	// 5. Page: Next goes to page 2 of the sorted list.
	b.step("sort by title again and go to the next page",
		chromedp.Click(`//th/a[normalize-space()="Title"]`, chromedp.BySearch),
		waitPage(list+"?o=title"),
		waitTrue("the list is sorted by title", fmt.Sprintf(`(document.querySelector("#changelist tbody tr:first-child th")||{}).innerText === %q`, byTitle[0])),
		chromedp.Click(`//nav[contains(@class,"pagination")]//a[@rel="next"]`, chromedp.BySearch),
		waitPage(list+"?o=title&p=2"),
		waitTrue("page 2 is current", `(document.querySelector('.pagination [aria-current="page"]')||{}).innerText === "2"`),
		firstRow(&first),
	)
	if want := expectTitles(books().Order("title ASC, id DESC"), 100); first != want[0] {
		t.Errorf("page 2 starts with %q, want %q", first, want[0])
	}

	// 6. Add with a validation error, then fix it.
	const title = "The Dispossessed"
	b.step("open the add form from the list",
		b.open(list),
		chromedp.Click(byText("a", "Add book"), chromedp.BySearch),
		waitPage(list+"add/"),
		chromedp.WaitVisible("#id_title", chromedp.ByQuery),
	)
	b.step("fill the form with a wrong ISBN check digit and pick the author through the search widget",
		chromedp.SendKeys("#id_title", title, chromedp.ByQuery),
		chromedp.SendKeys("#id_isbn", "978-0-06-051275-1", chromedp.ByQuery),
		chromedp.SendKeys("#id_author_id_search", "a", chromedp.ByQuery),
		waitTrue("the author widget offers authors", `document.querySelectorAll("#id_author_id option").length > 1`),
		chromedp.Evaluate(`(() => { const s = document.querySelector("#id_author_id"); s.selectedIndex = 1; return s.value })()`, new(string)),
		chromedp.SetValue("#id_genre", "scifi", chromedp.ByQuery),
		chromedp.SetValue("#id_published", "1974-05-01", chromedp.ByQuery),
		// The add form shows the zero values (0, 0.00): replace them.
		chromedp.SetValue("#id_pages", "387", chromedp.ByQuery),
		chromedp.SetValue("#id_price", "12.50", chromedp.ByQuery),
		chromedp.Click(byText("button", "Save"), chromedp.BySearch),
		chromedp.WaitVisible("#err_isbn", chromedp.ByQuery),
	)
	var isbnErr string
	b.step("read the ISBN error", chromedp.Text("#err_isbn", &isbnErr, chromedp.ByQuery))
	if !strings.Contains(isbnErr, "valid ISBN-13") {
		t.Errorf("the ISBN error says %q", isbnErr)
	}
	b.screenshot("11-library-form-error.png")
	b.step("fix the ISBN and save: back on the list with a message",
		chromedp.SetValue("#id_isbn", "978-0-06-051275-0", chromedp.ByQuery),
		chromedp.Click(byText("button", "Save"), chromedp.BySearch),
		waitPage(list),
		waitTrue("the added message shows", fmt.Sprintf(`(document.querySelector(".messages")||{innerText:""}).innerText.includes(%q)`, "“"+title+"” was added")),
	)
	var added library.Book
	if err := db.Where("title = ?", title).First(&added).Error; err != nil || added.ISBN != "9780060512750" || added.Pages != 387 {
		t.Fatalf("the added book: %+v, %v", added, err)
	}

	// 7. Change it ("save and continue editing"), then its history.
	change := fmt.Sprintf("%s%d/change/", list, added.ID)
	b.step("change the title and save and continue editing",
		b.open(change),
		chromedp.WaitVisible("#id_title", chromedp.ByQuery),
		chromedp.SetValue("#id_title", title+" (1974)", chromedp.ByQuery),
		chromedp.Click(byText("button", "Save and continue editing"), chromedp.BySearch),
		waitTrue("the changed message shows", `(document.querySelector(".messages")||{innerText:""}).innerText.includes("was changed")`),
		waitPage(change),
	)
	var hist string
	b.step("open the history: who added and who changed which field",
		chromedp.Click(byText("a", "History"), chromedp.BySearch),
		waitPage(fmt.Sprintf("%s%d/history/", list, added.ID)),
		chromedp.WaitVisible("main table", chromedp.ByQuery),
		chromedp.Text("main table", &hist, chromedp.ByQuery),
	)
	if !strings.Contains(hist, "Added") || !strings.Contains(hist, "Changed: Title") || !strings.Contains(hist, "root") {
		t.Errorf("the history shows %q", hist)
	}
	b.screenshot("12-library-history.png")

	// 8. Delete with its confirmation page.
	var confirm string
	b.step("open the change page, click Delete, see the confirmation",
		b.open(change),
		chromedp.Click(`//form[@id="change-form"]//a[normalize-space()="Delete"]`, chromedp.BySearch),
		waitPage(fmt.Sprintf("%s%d/delete/", list, added.ID)),
		chromedp.WaitVisible(byText("button", "Yes, I’m sure"), chromedp.BySearch),
		chromedp.Text("main", &confirm, chromedp.ByQuery),
	)
	if !strings.Contains(confirm, title+" (1974)") {
		t.Errorf("the confirmation does not name the book: %q", confirm)
	}
	b.screenshot("13-library-delete-confirmation.png")
	b.step("confirm: back on the list with a message",
		chromedp.Click(byText("button", "Yes, I’m sure"), chromedp.BySearch),
		waitPage(list),
		waitTrue("the deleted message shows", `(document.querySelector(".messages")||{innerText:""}).innerText.includes("was deleted")`),
	)
	var gone int64
	db.Model(&library.Book{}).Where("id = ?", added.ID).Count(&gone)
	if gone != 0 {
		t.Error("the book survived its deletion")
	}

	// 9. Bulk delete: two rows, the action, the confirmation.
	var total int64
	db.Model(&library.Book{}).Count(&total)
	var picked []string
	b.step("tick two rows, choose Delete selected books, run it",
		chromedp.Click(`#changelist tbody tr:nth-child(1) input[name="_selected_action"]`, chromedp.ByQuery),
		chromedp.Click(`#changelist tbody tr:nth-child(2) input[name="_selected_action"]`, chromedp.ByQuery),
		chromedp.Evaluate(`[...document.querySelectorAll('input[name="_selected_action"]:checked')].map(i => i.value)`, &picked),
		chromedp.SetValue("#action-select", "delete_selected", chromedp.ByQuery),
		chromedp.Click(byText("button", "Run"), chromedp.BySearch),
		chromedp.WaitVisible(byText("button", "Yes, I’m sure"), chromedp.BySearch),
		chromedp.Text("main", &confirm, chromedp.ByQuery),
	)
	if len(picked) != 2 || !strings.Contains(confirm, "these 2 objects") {
		t.Errorf("bulk delete: picked %v, confirmation %q", picked, confirm)
	}
	b.step("confirm the bulk delete",
		chromedp.Click(byText("button", "Yes, I’m sure"), chromedp.BySearch),
		waitPage(list),
		waitTrue("the bulk message shows", `(document.querySelector(".messages")||{innerText:""}).innerText.includes("Deleted 2 books")`),
	)
	var left int64
	db.Model(&library.Book{}).Count(&left)
	if left != total-2 {
		t.Errorf("after the bulk delete %d books remain, want %d", left, total-2)
	}

	// 10. Hebrew: right-to-left, the filter sidebar on the table's left.
	var dir, lang string
	var sidebarRight, tableLeft float64
	b.step("open the book list in Hebrew",
		b.open(list+"?lang=he"),
		chromedp.WaitVisible("#changelist tbody tr", chromedp.ByQuery),
		chromedp.Evaluate(`document.documentElement.dir`, &dir),
		chromedp.Evaluate(`document.documentElement.lang`, &lang),
		chromedp.Evaluate(`document.querySelector("#changelist aside").getBoundingClientRect().right`, &sidebarRight),
		// The table's column (the table itself may scroll inside it).
		chromedp.Evaluate(`document.querySelector("#changelist .table-wrap").getBoundingClientRect().left`, &tableLeft),
	)
	if dir != "rtl" || lang != "he" {
		t.Errorf(`Hebrew list: <html lang=%q dir=%q>`, lang, dir)
	}
	if sidebarRight > tableLeft {
		t.Errorf("in Hebrew the filter sidebar (right edge %.0f) must be left of the table (left edge %.0f)", sidebarRight, tableLeft)
	}
	b.screenshot("14-library-changelist-he.png")
	b.step("back to English", b.open(list+"?lang=en"), chromedp.WaitVisible("#changelist", chromedp.ByQuery))

	if ps := b.Problems(); len(ps) > 0 {
		t.Errorf("the pages logged errors in the browser:\n  %s", strings.Join(ps, "\n  "))
	}
}
