package main

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"strings"
	"testing"
	"time"

	"gorm.io/gorm"

	"github.com/gatehouse/gatehouse/cmd/site/library"
	"github.com/gatehouse/gatehouse/internal/testenv"
)

// TestSeedDemo runs the command on SQLite: counts, the progress bar, the
// summary, the data's validity, appending, and repeatability.
func TestSeedDemo(t *testing.T) {
	f := newFixture(t)
	r := f.mustRun("", "seed-demo", "--books", "2000")
	if !strings.Contains(r.stdout, "Inserted 2,000 books, 100 authors") || !strings.Contains(r.stdout, "200 loans") {
		t.Errorf("summary: %q", r.stdout)
	}
	// The bar redraws one line in place and ends it.
	bar := r.stderr[max(strings.Index(r.stderr, "\r"), 0):] // after the key file notice
	if !strings.HasPrefix(bar, "\r") || !strings.HasSuffix(bar, "\n") || strings.Count(bar, "\n") != 1 {
		t.Errorf("progress bar: want \\r-redrawn line ending in one newline, got %q", bar)
	}
	if !strings.Contains(bar, "100% [==============================] 2,300/2,300 rows") || !strings.Contains(bar, "rows/s") || !strings.Contains(bar, "ETA") {
		t.Errorf("progress bar lacks percent, rows/s or ETA: %q", bar)
	}

	db := f.open().db
	count := func(m any) int64 {
		var n int64
		db.Model(m).Count(&n)
		return n
	}
	if b, a, l, tg := count(&library.Book{}), count(&library.Author{}), count(&library.Loan{}), count(&library.Tag{}); b != 2000 || a != 100 || l != 200 || tg != int64(len(library.TagNames)) {
		t.Fatalf("rows: %d books, %d authors, %d loans, %d tags", b, a, l, tg)
	}
	var links, outOfStock, badISBN int64
	db.Table("library_book_tags").Count(&links)
	db.Model(&library.Book{}).Where("in_stock = ?", false).Count(&outOfStock)
	if links < 1000 || outOfStock < 300 || outOfStock > 700 {
		t.Errorf("%d tag links, %d books out of stock: the column default (true) must not replace false", links, outOfStock)
	}
	var books []library.Book
	db.Preload("Author").Preload("Tags").Order("id").Limit(50).Find(&books)
	for _, b := range books {
		if _, ok := library.NormalizeISBN(b.ISBN); !ok {
			badISBN++
		}
		if b.Author == nil || b.Title == "" || b.Published.IsZero() || b.Price <= 0 {
			t.Fatalf("incomplete book: %+v", b)
		}
	}
	if badISBN > 0 {
		t.Errorf("%d seeded ISBNs fail their check digit", badISBN)
	}

	// A second run appends, with new ids and unique ISBNs.
	f.mustRun("", "seed-demo", "--books", "100", "--quiet")
	if n := count(&library.Book{}); n != 2100 {
		t.Errorf("after a second run: %d books", n)
	}

	// The same seed on a fresh database gives the same rows.
	g := newFixture(t)
	g.mustRun("", "seed-demo", "--books", "2000", "--quiet")
	h := newFixture(t)
	h.mustRun("", "seed-demo", "--books", "2000", "--quiet", "--seed", "2")
	a, b, c := fingerprint(t, f.open().db, 2000), fingerprint(t, g.open().db, 2000), fingerprint(t, h.open().db, 2000)
	if a != b {
		t.Error("the same seed gave different data")
	}
	if a == c {
		t.Error("another seed gave the same data")
	}
}

// fingerprint hashes the first n books and their links.
func fingerprint(t *testing.T, db *gorm.DB, n int) string {
	t.Helper()
	var rows []struct {
		ID                 uint
		Title, ISBN, Genre string
		AuthorID           uint
		Published          time.Time
		Pages              int
		Price              float64
		InStock            bool
		Name               string
		Links              int
	}
	err := db.Raw(`SELECT b.id, b.title, b.isbn, b.genre, b.author_id, b.published, b.pages, b.price, b.in_stock, a.name,
		(SELECT COUNT(*) FROM library_book_tags bt WHERE bt.book_id = b.id) AS links
		FROM library_books b JOIN library_authors a ON a.id = b.author_id WHERE b.id <= ? ORDER BY b.id`, n).Scan(&rows).Error
	if err != nil {
		t.Fatal(err)
	}
	h := sha256.New()
	for _, r := range rows {
		fmt.Fprintf(h, "%+v\n", r)
	}
	return hex.EncodeToString(h.Sum(nil))
}

func TestSeedDemoArguments(t *testing.T) {
	f := newFixture(t)
	for _, args := range [][]string{{"--books", "-1"}, {"--books", "x"}, {"extra"}, {"--books", "200000000"}} {
		r := f.run("", append([]string{"seed-demo"}, args...)...)
		if r.code == 0 || r.stderr == "" {
			t.Errorf("seed-demo %v: want a failure with a message, got %d %q", args, r.code, r.stderr)
		}
	}
	r := f.mustRun("", "seed-demo", "--help")
	for _, w := range []string{"-books", "-seed", "GATEHOUSE_DB"} {
		if !strings.Contains(r.stdout, w) {
			t.Errorf("help lacks %s", w)
		}
	}
	// --books 0 only creates the tables and the tags.
	r = f.mustRun("", "seed-demo", "--books", "0")
	if !strings.Contains(r.stdout, "Inserted 0 books") {
		t.Errorf("--books 0: %q", r.stdout)
	}
}

// TestSeedDatabases seeds every configured database: PostgreSQL's id
// sequences continue after the explicit ids, and a big load rebuilds the
// indexes it dropped.
func TestSeedDatabases(t *testing.T) {
	for _, d := range testenv.DBs(t) {
		t.Run(d.Name, func(t *testing.T) {
			db := testenv.Open(t, d)
			ctx := context.Background()
			var phases []string
			var last, total int64
			st, err := library.Seed(ctx, db, library.SeedOptions{Books: 3000, Seed: 3,
				Phase:    func(p string) { phases = append(phases, p) },
				Progress: func(done, tot int64) { last, total = done, tot }})
			if err != nil {
				t.Fatal(err)
			}
			if st.Books != 3000 || st.Authors != 150 || st.Loans != 300 || last != total || total != 3450 {
				t.Errorf("stats %+v, progress %d/%d", st, last, total)
			}
			if strings.Join(phases, ",") != "authors,books,loans" {
				t.Errorf("phases: %v", phases)
			}
			// New rows after the seed get fresh ids (sequences moved on).
			a := library.Author{Name: "Octavia E. Butler"}
			if err := db.Create(&a).Error; err != nil {
				t.Fatalf("insert after seeding: %v", err)
			}
			if a.ID != 151 {
				t.Errorf("new author id %d, want 151", a.ID)
			}
			if _, err := library.Seed(ctx, db, library.SeedOptions{Books: 10, Seed: 3}); err != nil {
				t.Fatalf("second seed: %v", err)
			}
		})
	}
}

// TestSeedRebuildsIndexes: a load of 50,000 books or more drops the
// secondary indexes and builds them again at the end.
func TestSeedRebuildsIndexes(t *testing.T) {
	if testing.Short() {
		t.Skip("seeds 50,000 books")
	}
	db := testenv.Open(t, testenv.DB{Name: "sqlite"})
	// One connection: the load must not need a second one while it holds
	// its own, and the check below sees the loading connection itself.
	sqlDB, _ := db.DB()
	sqlDB.SetMaxOpenConns(1)
	var out bytes.Buffer
	st, err := library.Seed(context.Background(), db, library.SeedOptions{Books: 50_000, Seed: 1, Phase: func(p string) { out.WriteString(p + " ") }})
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out.String(), "indexes") || st.Books != 50_000 {
		t.Fatalf("phases %q, stats %+v", out.String(), st)
	}
	for _, m := range []any{&library.Author{}, &library.Book{}, &library.Loan{}} {
		stmt := &gorm.Statement{DB: db}
		if err := stmt.Parse(m); err != nil {
			t.Fatal(err)
		}
		for _, idx := range stmt.Schema.ParseIndexes() {
			if !db.Migrator().HasIndex(m, idx.Name) {
				t.Errorf("index %s is missing after the load", idx.Name)
			}
		}
	}
	// The loading connection's settings do not leak into the pool.
	var fk int
	db.Raw("PRAGMA foreign_keys").Scan(&fk)
	if fk != 1 {
		t.Errorf("foreign_keys is %d on a pooled connection after seeding", fk)
	}
}
