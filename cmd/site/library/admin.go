package library

import (
	"fmt"
	"time"

	"github.com/gin-gonic/gin"
	"gorm.io/gorm"
	"gorm.io/gorm/clause"

	"github.com/gatehouse/gatehouse/admin"
	"github.com/gatehouse/gatehouse/auth"
	"github.com/gatehouse/gatehouse/internal/locale"
)

// App is the admin app name: /admin/library/...
const App = "library"

// Genres are the books' genre choices; labels are message ids.
var Genres = []admin.Choice{
	{Value: "novel", Label: "library_genre_novel"},
	{Value: "crime", Label: "library_genre_crime"},
	{Value: "fantasy", Label: "library_genre_fantasy"},
	{Value: "scifi", Label: "library_genre_scifi"},
	{Value: "poetry", Label: "library_genre_poetry"},
	{Value: "history", Label: "library_genre_history"},
	{Value: "science", Label: "library_genre_science"},
	{Value: "children", Label: "library_genre_children"},
}

// Register adds the library models to site. Call it before site.Mount,
// and site.Migrate after it (for the permissions). now is the clock of
// the overdue column and filter and of the publication date check (nil:
// time.Now); pass the auth service's clock.
func Register(site *admin.Site, now func() time.Time) {
	if now == nil {
		now = time.Now
	}
	today := func() time.Time {
		n := now().UTC()
		return time.Date(n.Year(), n.Month(), n.Day(), 0, 0, 0, 0, time.UTC)
	}
	admin.Register(site, admin.ModelAdmin[Author]{
		App: App, Verbose: "library_author", VerbosePlural: "library_authors",
		ListDisplay:  []string{"name", "email", "birth_date"},
		SearchFields: []string{"name", "email"},
		Ordering:     []string{"name"},
		Sortable:     []string{"name"},
		Count:        admin.CountEstimated,
	})
	admin.Register(site, admin.ModelAdmin[Tag]{
		App: App, Verbose: "library_tag", VerbosePlural: "library_tags",
		ListDisplay:  []string{"name"},
		SearchFields: []string{"name"},
		Ordering:     []string{"name"},
	})
	admin.Register(site, admin.ModelAdmin[Book]{
		App: App, Verbose: "library_book", VerbosePlural: "library_books",
		// No tags column: a many-to-many column costs two more queries
		// per page (Django's admin does not allow one at all); tags are on
		// the form.
		ListDisplay:  []string{"title", "isbn", "author_id", "genre", "published", "price", "in_stock"},
		ListLinks:    []string{"title"},
		SearchFields: []string{"title", "isbn", "author.name"},
		ListFilter: []admin.Filter{
			admin.BoolFilter("in_stock"),
			admin.ChoiceFilter("genre"),
			admin.DateFilter("published"),
			admin.ForeignKeyFilter("author_id"),
		},
		// Every sortable column has an index; price and pages have none,
		// so they are not sortable on a million rows.
		Ordering: []string{"-published"},
		Sortable: []string{"title", "isbn", "author_id", "genre", "published", "in_stock"},
		Count:    admin.CountEstimated,
		Choices:  map[string][]admin.Choice{"genre": Genres},
		Fieldsets: []admin.Fieldset{
			{Fields: []string{"title", "isbn", "author_id", "translator_id", "genre", "tags"}},
			{Title: "library_fieldset_publication", Fields: []string{"published", "pages", "price", "in_stock"}},
		},
		Autocomplete: []string{"author_id", "translator_id"},
		Inlines:      []admin.Inline{{Field: "Loans", Fields: []string{"borrower", "due", "returned"}}},
		Validate:     func(c *gin.Context, b *Book) map[string]string { return validateBook(c, b, now()) },
		Actions: []admin.Action[Book]{{
			Name: "mark_out_of_stock", Label: "library_action_mark_out_of_stock",
			Run: func(c *gin.Context, db *gorm.DB, rows []Book) (string, error) {
				err := db.Model(&Book{}).Where(clause.IN{Column: clause.PrimaryColumn, Values: bookIDs(rows)}).
					Update("in_stock", false).Error
				return locale.From(c).T("library_marked_out_of_stock", "Count", len(rows)), err
			},
		}},
	})
	admin.Register(site, admin.ModelAdmin[Loan]{
		App: App, Verbose: "library_loan", VerbosePlural: "library_loans",
		ListDisplay:  []string{"borrower", "book_id", "due", "returned", "days_overdue"},
		SearchFields: []string{"borrower", "book.title"},
		ListFilter: []admin.Filter{
			admin.BoolFilter("returned"),
			admin.DateFilter("due"),
			admin.CustomFilter("overdue", "library_filter_overdue",
				[]admin.Choice{{Value: "1", Label: "library_filter_overdue_yes"}},
				func(db *gorm.DB, _ string) *gorm.DB {
					return db.Where(clause.Lt{Column: clause.Column{Table: "library_loans", Name: "due"}, Value: today()}).
						Where(clause.Eq{Column: clause.Column{Table: "library_loans", Name: "returned"}, Value: false})
				}),
		},
		Ordering: []string{"-due"},
		Sortable: []string{"borrower", "due", "returned"},
		Computed: map[string]admin.Computed[Loan]{
			"days_overdue": {Label: "library_col_days_overdue", Value: func(l *Loan) string { return daysOverdue(l, today()) }},
		},
		Fields:       []string{"book_id", "borrower", "due", "returned"},
		Autocomplete: []string{"book_id"},
		// Staff who are not superusers see only open loans, wherever loans
		// appear: this list, the book form's loans, the book delete page
		// (Django's get_queryset).
		Scope: openLoansForStaff,
		Actions: []admin.Action[Loan]{{
			Name: "mark_returned", Label: "library_action_mark_returned",
			Run: func(c *gin.Context, db *gorm.DB, rows []Loan) (string, error) {
				ids := make([]any, len(rows))
				for i, r := range rows {
					ids[i] = r.ID
				}
				err := db.Model(&Loan{}).Where(clause.IN{Column: clause.PrimaryColumn, Values: ids}).
					Update("returned", true).Error
				return locale.From(c).T("library_marked_returned", "Count", len(rows)), err
			},
		}},
	})
}

// validateBook checks the ISBN-13 (and stores it without hyphens), that
// a book is not published more than a year after now, and signs.
func validateBook(c *gin.Context, b *Book, now time.Time) map[string]string {
	l := locale.From(c)
	errs := map[string]string{}
	if isbn, ok := NormalizeISBN(b.ISBN); ok {
		b.ISBN = isbn
	} else {
		errs["isbn"] = l.T("library_isbn_invalid")
	}
	if b.Published.After(now.AddDate(1, 0, 0)) {
		errs["published"] = l.T("library_published_future")
	}
	if b.Pages < 0 {
		errs["pages"] = l.T("library_pages_negative")
	}
	if b.Price < 0 {
		errs["price"] = l.T("library_price_negative")
	}
	return errs
}

func bookIDs(rows []Book) []any {
	ids := make([]any, len(rows))
	for i, r := range rows {
		ids[i] = r.ID
	}
	return ids
}

// daysOverdue is the number of days an unreturned loan is past due on
// the day today, or "" (shown as the empty value).
func daysOverdue(l *Loan, today time.Time) string {
	if l.Returned {
		return ""
	}
	days := int(today.Sub(l.Due.UTC()).Hours() / 24)
	if days <= 0 {
		return ""
	}
	return fmt.Sprint(days)
}

// openLoansForStaff is the loan admin's scope: everything for superusers,
// the loans not yet returned for other staff.
func openLoansForStaff(c *gin.Context, db *gorm.DB) *gorm.DB {
	if u := auth.UserFrom(c); u != nil && u.IsSuperuser {
		return db
	}
	return db.Where(clause.Eq{Column: clause.Column{Table: "library_loans", Name: "returned"}, Value: false})
}
