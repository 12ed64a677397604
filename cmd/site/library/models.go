// Package library is the demo app of cmd/site: authors, books, tags and
// loans, registered on the admin with the options a real site would use,
// and a fast, deterministic seeder (Seed) for a million-book table. It is a
// package of its own so the real-browser tests of package admin can
// register the same models.
package library

import (
	"context"
	"fmt"
	"strings"
	"time"

	"gorm.io/gorm"
)

// Author writes books, and translates some. The relations are declared
// on purpose (Django's on_delete): an author with books cannot be deleted
// (RESTRICT, PROTECT in Django); deleting a translator keeps the books
// and clears their translator (SET NULL).
type Author struct {
	ID           uint       `gorm:"primaryKey"`
	Name         string     `gorm:"size:100;not null;index"`
	Email        string     `gorm:"size:254"`
	BirthDate    *time.Time `gorm:"type:date"`
	Books        []Book     `gorm:"constraint:OnDelete:RESTRICT"`
	Translations []Book     `gorm:"foreignKey:TranslatorID;constraint:OnDelete:SET NULL"`
}

// TableName is library_authors.
func (Author) TableName() string { return "library_authors" }

func (a *Author) String() string { return a.Name }

// Tag labels books.
type Tag struct {
	ID   uint   `gorm:"primaryKey"`
	Name string `gorm:"size:50;not null;uniqueIndex"`
}

// TableName is library_tags.
func (Tag) TableName() string { return "library_tags" }

func (t *Tag) String() string { return t.Name }

// Book is the big table: the changelist sorts and filters it by indexed
// columns only. The composite indexes serve "filter, then the default
// order (newest first)" without sorting the matches.
type Book struct {
	ID       uint   `gorm:"primaryKey"`
	Title    string `gorm:"size:200;not null;index"`
	ISBN     string `gorm:"column:isbn;size:17;not null;uniqueIndex"`
	AuthorID uint   `gorm:"not null;index:idx_library_books_author_published,priority:1"`
	Author   *Author
	// TranslatorID is optional: deleting the translator clears it.
	TranslatorID *uint `gorm:"index"`
	Translator   *Author
	Genre        string    `gorm:"size:20;not null;index:idx_library_books_genre_published,priority:1"`
	Published    time.Time `gorm:"type:date;not null;index;index:idx_library_books_author_published,priority:2;index:idx_library_books_genre_published,priority:2;index:idx_library_books_stock_published,priority:2"`
	Pages        int       `gorm:"not null"`
	Price        float64   `gorm:"type:decimal(8,2);size:8;precision:8;scale:2;not null"`
	InStock      bool      `gorm:"not null;default:true;index:idx_library_books_stock_published,priority:1"`
	Tags         []Tag     `gorm:"many2many:library_book_tags;constraint:OnDelete:CASCADE"`
	Loans        []Loan    `gorm:"constraint:OnDelete:CASCADE"` // a book's loans go with it
}

// TableName is library_books.
func (Book) TableName() string { return "library_books" }

func (b *Book) String() string { return b.Title }

// Loan is a book lent to a borrower.
type Loan struct {
	ID       uint `gorm:"primaryKey"`
	BookID   uint `gorm:"not null;index"`
	Book     *Book
	Borrower string    `gorm:"size:100;not null"`
	Due      time.Time `gorm:"type:date;not null;index"`
	Returned bool      `gorm:"not null;default:false;index"`
}

// TableName is library_loans.
func (Loan) TableName() string { return "library_loans" }

func (l *Loan) String() string {
	return l.Borrower + " (" + l.Due.Format(time.DateOnly) + ")"
}

// Models are the app's models, parents first.
func Models() []any { return []any{&Author{}, &Tag{}, &Book{}, &Loan{}} }

// Migrate creates or updates the app's tables and indexes.
func Migrate(ctx context.Context, db *gorm.DB) error {
	if err := db.WithContext(ctx).AutoMigrate(Models()...); err != nil {
		return fmt.Errorf("library: migrate: %w", err)
	}
	return nil
}

// NormalizeISBN strips spaces and hyphens and checks an ISBN-13's check
// digit; ok is false for anything else.
func NormalizeISBN(s string) (string, bool) {
	d := strings.Map(func(r rune) rune {
		if r == '-' || r == ' ' {
			return -1
		}
		return r
	}, s)
	if len(d) != 13 {
		return d, false
	}
	for _, r := range d {
		if r < '0' || r > '9' {
			return d, false
		}
	}
	return d, isbnCheck(d[:12]) == d[12]
}

// isbnCheck is the ISBN-13 check digit of 12 digits.
func isbnCheck(d string) byte {
	sum := 0
	for i := range 12 {
		n := int(d[i] - '0')
		if i%2 == 1 {
			n *= 3
		}
		sum += n
	}
	return byte('0' + (10-sum%10)%10)
}
