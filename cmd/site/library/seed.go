package library

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"math/rand/v2"
	"strconv"
	"strings"
	"time"

	"gorm.io/gorm"
	"gorm.io/gorm/clause"
)

// SeedOptions shape a Seed run.
type SeedOptions struct {
	// Books to insert; authors are about Books/20, loans Books/10.
	Books int
	// Seed makes the data: the same seed on the same database state gives
	// the same rows, so benchmarks are repeatable.
	Seed uint64
	// Progress, when set, is called after every batch with the rows done
	// and the rows planned (authors, books and loans).
	Progress func(done, total int64)
	// Phase, when set, names each phase as it starts ("authors", "books",
	// "loans", "indexes").
	Phase func(name string)
}

// SeedStats says what Seed inserted.
type SeedStats struct {
	Authors, Books, BookTags, Loans, Tags int64
	IndexTime                             time.Duration
}

// TagNames are the tags Seed uses (created when missing).
var TagNames = []string{
	"classic", "award-winner", "translated", "debut", "bestseller", "illustrated", "signed", "first-edition",
	"large-print", "paperback", "hardcover", "series", "short-stories", "biography", "graphic", "reference",
	"local-author", "book-club", "staff-pick", "out-of-print", "anthology", "young-adult", "essay", "travel",
}

// Seed inserts o.Books books with authors, tags and loans, in multi-row
// INSERTs inside transactions. On a big load it drops the secondary indexes
// first and builds them again at the end (faster than keeping them up to
// date row by row), also when the load fails or is cancelled; on SQLite
// it also turns off fsync (synchronous=OFF) and foreign-key checks for the
// loading connection only: the data is consistent by construction, a
// stopped or crashed load leaves the batches committed so far, and only a
// power loss during the load could damage the file.
func Seed(ctx context.Context, db *gorm.DB, o SeedOptions) (st SeedStats, err error) {
	if o.Books < 0 {
		return st, errors.New("the number of books cannot be negative")
	}
	db = db.WithContext(ctx)
	if err := Migrate(ctx, db); err != nil {
		return st, err
	}
	dialect := db.Dialector.Name()
	tagIDs, created, err := ensureTags(db)
	if err != nil {
		return st, err
	}
	st.Tags = created
	if o.Books == 0 {
		return st, nil
	}
	nAuthors := max(1, o.Books/20)
	nLoans := o.Books / 10
	var base struct{ author, book, loan int64 }
	for _, t := range []struct {
		table string
		dst   *int64
	}{{"library_authors", &base.author}, {"library_books", &base.book}, {"library_loans", &base.loan}} {
		if err := db.Raw("SELECT COALESCE(MAX(id), 0) FROM " + t.table).Scan(t.dst).Error; err != nil {
			return st, err
		}
	}

	// Secondary indexes: drop them for a load at least as big as the table.
	var dropped bool
	if o.Books >= 50_000 && base.book <= int64(o.Books) {
		dropped = true
		defer func() {
			if err != nil { // put the indexes back, even after a cancel
				if merr := Migrate(context.WithoutCancel(ctx), db.WithContext(context.WithoutCancel(ctx))); merr != nil {
					err = errors.Join(err, fmt.Errorf("rebuilding the indexes: %w (`site migrate` builds them)", merr))
				}
			}
		}()
		if err := dropIndexes(db); err != nil {
			return st, err
		}
	}

	sqlDB, err := db.DB()
	if err != nil {
		return st, err
	}
	conn, err := sqlDB.Conn(ctx)
	if err != nil {
		return st, err
	}
	defer conn.Close()
	if dialect == "sqlite" {
		for _, p := range []string{"PRAGMA synchronous=OFF", "PRAGMA foreign_keys=OFF", "PRAGMA cache_size=-262144", "PRAGMA temp_store=MEMORY"} {
			if _, err := conn.ExecContext(ctx, p); err != nil {
				return st, err
			}
		}
		// The connection goes back to the pool: restore what Open set.
		defer func() {
			for _, p := range []string{"PRAGMA synchronous=NORMAL", "PRAGMA foreign_keys=ON", "PRAGMA cache_size=-2000", "PRAGMA temp_store=DEFAULT"} {
				_, _ = conn.ExecContext(context.WithoutCancel(ctx), p)
			}
		}()
	}

	l := &loader{ctx: ctx, conn: conn, dialect: dialect, total: int64(nAuthors + o.Books + nLoans), progress: o.Progress}
	g := newGenerator(o.Seed)
	batches := make(chan batch, 8)
	genCtx, cancel := context.WithCancel(ctx)
	defer cancel()
	go func() {
		defer close(batches)
		g.run(genCtx, batches, o, nAuthors, nLoans, base.author, base.book, base.loan, tagIDs, o.Phase)
	}()
	if err := l.load(batches); err != nil {
		cancel()
		for range batches { // let the generator finish
		}
		return st, err
	}
	st.Authors, st.Books, st.Loans, st.BookTags = int64(nAuthors), int64(o.Books), int64(nLoans), l.rows["library_book_tags"]

	if dialect == "postgres" {
		for _, t := range []string{"library_authors", "library_books", "library_loans"} {
			if _, err := conn.ExecContext(ctx, fmt.Sprintf("SELECT setval(pg_get_serial_sequence('%s', 'id'), (SELECT MAX(id) FROM %s))", t, t)); err != nil {
				return st, err
			}
		}
	}
	start := time.Now()
	if dropped {
		if o.Phase != nil {
			o.Phase("indexes")
		}
		// On the loading connection, with its big cache: creates the
		// missing indexes.
		onConn := db.Session(&gorm.Session{NewDB: true})
		onConn.Statement.ConnPool = conn
		if err := Migrate(ctx, onConn); err != nil {
			return st, err
		}
	}
	// Fresh statistics let the planner pick the right index per query.
	switch dialect {
	case "sqlite":
		_, err = conn.ExecContext(ctx, "ANALYZE; PRAGMA wal_checkpoint(TRUNCATE)")
	case "postgres":
		_, err = conn.ExecContext(ctx, "ANALYZE library_authors, library_books, library_book_tags, library_loans")
	case "mysql":
		_, err = conn.ExecContext(ctx, "ANALYZE TABLE library_authors, library_books, library_book_tags, library_loans")
	}
	st.IndexTime = time.Since(start)
	return st, err
}

// ensureTags creates the missing TagNames and returns every tag's id.
func ensureTags(db *gorm.DB) ([]int64, int64, error) {
	var before int64
	if err := db.Model(&Tag{}).Count(&before).Error; err != nil {
		return nil, 0, err
	}
	tags := make([]Tag, len(TagNames))
	for i, n := range TagNames {
		tags[i] = Tag{Name: n}
	}
	if err := db.Clauses(clause.OnConflict{DoNothing: true}).Create(&tags).Error; err != nil {
		return nil, 0, err
	}
	var ids []int64
	if err := db.Model(&Tag{}).Where("name IN ?", TagNames).Order("id").Pluck("id", &ids).Error; err != nil {
		return nil, 0, err
	}
	var after int64
	if err := db.Model(&Tag{}).Count(&after).Error; err != nil {
		return nil, 0, err
	}
	return ids, after - before, nil
}

// dropIndexes drops the secondary indexes of the big tables.
func dropIndexes(db *gorm.DB) error {
	for _, m := range []any{&Author{}, &Book{}, &Loan{}} {
		stmt := &gorm.Statement{DB: db}
		if err := stmt.Parse(m); err != nil {
			return err
		}
		for _, idx := range stmt.Schema.ParseIndexes() {
			if db.Migrator().HasIndex(m, idx.Name) {
				if err := db.Migrator().DropIndex(m, idx.Name); err != nil {
					return fmt.Errorf("drop index %s: %w", idx.Name, err)
				}
			}
		}
	}
	return nil
}

// batch is one multi-row INSERT.
type batch struct {
	table string
	cols  []string
	rows  int
	args  []any
	units int64 // progress units (0 for link rows)
}

// loader executes batches on one connection, committing every
// rowsPerTx rows.
type loader struct {
	ctx      context.Context
	conn     *sql.Conn
	dialect  string
	total    int64
	done     int64
	progress func(done, total int64)
	rows     map[string]int64
}

const rowsPerTx = 100_000

func (l *loader) load(batches <-chan batch) error {
	l.rows = map[string]int64{}
	var tx *sql.Tx
	stmts := map[string]*sql.Stmt{}
	inTx := 0
	commit := func() error {
		if tx == nil {
			return nil
		}
		for k, s := range stmts {
			s.Close()
			delete(stmts, k)
		}
		err := tx.Commit()
		tx, inTx = nil, 0
		return err
	}
	defer func() {
		if tx != nil {
			_ = tx.Rollback()
		}
	}()
	for b := range batches {
		if tx == nil {
			var err error
			if tx, err = l.conn.BeginTx(l.ctx, nil); err != nil {
				return err
			}
		}
		key := b.table + "/" + strconv.Itoa(b.rows)
		s := stmts[key]
		if s == nil {
			var err error
			if s, err = tx.PrepareContext(l.ctx, insertSQL(l.dialect, b.table, b.cols, b.rows)); err != nil {
				return err
			}
			stmts[key] = s
		}
		if _, err := s.ExecContext(l.ctx, b.args...); err != nil {
			return fmt.Errorf("insert into %s: %w", b.table, err)
		}
		l.rows[b.table] += int64(b.rows)
		inTx += b.rows
		if inTx >= rowsPerTx {
			if err := commit(); err != nil {
				return err
			}
		}
		l.done += b.units
		if l.progress != nil && b.units > 0 {
			l.progress(l.done, l.total)
		}
	}
	if err := l.ctx.Err(); err != nil {
		return err
	}
	return commit()
}

// insertSQL is INSERT INTO table (cols) VALUES (...), ... with rows rows
// of placeholders in the dialect's style.
func insertSQL(dialect, table string, cols []string, rows int) string {
	var b strings.Builder
	b.WriteString("INSERT INTO " + table + " (" + strings.Join(cols, ", ") + ") VALUES ")
	n := 0
	for r := range rows {
		if r > 0 {
			b.WriteByte(',')
		}
		b.WriteByte('(')
		for c := range cols {
			if c > 0 {
				b.WriteByte(',')
			}
			n++
			if dialect == "postgres" {
				b.WriteString("$" + strconv.Itoa(n))
			} else {
				b.WriteByte('?')
			}
		}
		b.WriteByte(')')
	}
	return b.String()
}

// maxVars is SQLite's limit of bound variables per statement (32766);
// PostgreSQL and MySQL allow 65535.
const maxVars = 32766

// rowsPerBatch keeps a statement under every database's variable limit.
func rowsPerBatch(cols int) int { return min(1000, maxVars/cols) }

// generator makes the deterministic data.
type generator struct{ r *rand.Rand }

func newGenerator(seed uint64) *generator {
	return &generator{r: rand.New(rand.NewPCG(seed, 0x9e3779b97f4a7c15))}
}

var (
	firstNames = []string{"Ada", "Alan", "Amara", "Ana", "Anders", "Aziz", "Beatriz", "Bjorn", "Carmen", "Chen", "Chiara", "Daniel",
		"Dara", "Eitan", "Elena", "Emeka", "Farah", "Felix", "Grace", "Hana", "Hugo", "Ines", "Ingrid", "Isaac", "Jamal", "Jana",
		"Jonas", "Kai", "Kenji", "Lara", "Leila", "Liam", "Lina", "Luca", "Mai", "Marek", "Maria", "Mateo", "Mei", "Mira", "Nadia",
		"Naomi", "Nia", "Noah", "Olga", "Omar", "Pablo", "Priya", "Rafael", "Rina", "Rosa", "Sami", "Sara", "Sofia", "Tariq", "Tomas",
		"Uma", "Vera", "Yara", "Yusuf", "Zoe"}
	lastNames = []string{"Abe", "Adeyemi", "Alvarez", "Andersen", "Baker", "Banerjee", "Becker", "Bianchi", "Cohen", "Costa", "Dahl",
		"Diaz", "Dubois", "Eriksen", "Fischer", "Fontaine", "Garcia", "Goldberg", "Gomez", "Haddad", "Hansen", "Hoffmann", "Ivanova",
		"Jansen", "Kaplan", "Kim", "Kowalski", "Kuznetsov", "Larsen", "Levi", "Lopez", "Mahmoud", "Marino", "Martin", "Meyer",
		"Mizrahi", "Moreau", "Murphy", "Nakamura", "Nguyen", "Novak", "Nowak", "Okafor", "Olsen", "Ortiz", "Park", "Peretz", "Petrov",
		"Quinn", "Rahman", "Reyes", "Rossi", "Russo", "Sato", "Schmidt", "Schulz", "Silva", "Singh", "Smith", "Sokolov", "Suzuki",
		"Tanaka", "Tran", "Vasquez", "Wagner", "Weber", "Wong", "Yamamoto", "Yilmaz", "Zhang", "Ziegler"}
	adjectives = []string{"Silent", "Hidden", "Last", "Broken", "Golden", "Distant", "Secret", "Forgotten", "Burning", "Frozen",
		"Quiet", "Crimson", "Endless", "Wandering", "Hollow", "Bright", "Lonely", "Wild", "Ancient", "Little", "Restless", "Painted",
		"Invisible", "Northern", "Drowned", "Glass", "Iron", "Paper", "Summer", "Winter", "Midnight", "Salt", "Velvet", "Copper"}
	nouns = []string{"Garden", "River", "Mountain", "House", "Library", "Harbor", "Forest", "City", "Island", "Letter", "Map",
		"Clock", "Mirror", "Bridge", "Orchard", "Lighthouse", "Kingdom", "Machine", "Voyage", "Archive", "Storm", "Station",
		"Cathedral", "Desert", "Window", "Song", "Witness", "Daughter", "Stranger", "Engine", "Tide", "Valley", "Compass",
		"Shadow", "Market", "Tower", "Frontier", "Ocean", "Circus", "Garden Party", "Winter Palace", "Observatory"}
	places = []string{"Lisbon", "Kyoto", "Lagos", "Haifa", "Oslo", "Cairo", "Lima", "Prague", "Hanoi", "Tbilisi", "Dakar",
		"Montreal", "Nairobi", "Seville", "Krakow", "Busan", "Quito", "Tunis", "Riga", "Porto"}
	genreWeights = []int{30, 16, 12, 10, 5, 10, 9, 8} // per Genres entry
)

func (g *generator) pick(list []string) string { return list[g.r.IntN(len(list))] }

func (g *generator) name() string {
	return g.pick(firstNames) + " " + string(rune('A'+g.r.IntN(26))) + ". " + g.pick(lastNames)
}

func (g *generator) title() string {
	switch g.r.IntN(6) {
	case 0:
		return "The " + g.pick(adjectives) + " " + g.pick(nouns)
	case 1:
		return "The " + g.pick(nouns) + " of " + g.pick(places)
	case 2:
		return g.pick(adjectives) + " " + g.pick(nouns) + "s"
	case 3:
		return "A " + g.pick(nouns) + " in " + g.pick(places)
	case 4:
		return "The " + g.pick(nouns) + "'s " + g.pick(nouns)
	default:
		return g.pick(nouns) + " and " + g.pick(nouns)
	}
}

func (g *generator) genre() string {
	n := g.r.IntN(100)
	for i, w := range genreWeights {
		if n < w {
			return Genres[i].Value
		}
		n -= w
	}
	return Genres[0].Value
}

// date is a random day in [from, from+days).
func (g *generator) date(from time.Time, days int) time.Time {
	return from.AddDate(0, 0, g.r.IntN(days))
}

// isbn is a valid ISBN-13 made from a book id (unique per id).
func isbn(id int64) string {
	d := fmt.Sprintf("978%09d", id%1_000_000_000)
	return d + string(isbnCheck(d))
}

var (
	authorCols = []string{"id", "name", "email", "birth_date"}
	bookCols   = []string{"id", "title", "isbn", "author_id", "genre", "published", "pages", "price", "in_stock"}
	linkCols   = []string{"book_id", "tag_id"}
	loanCols   = []string{"id", "book_id", "borrower", "due", "returned"}
)

// run generates every batch in order: authors, books with their tag
// links, loans.
func (g *generator) run(ctx context.Context, out chan<- batch, o SeedOptions, nAuthors, nLoans int, authorBase, bookBase, loanBase int64, tagIDs []int64, phase func(string)) {
	send := func(b batch) bool {
		select {
		case out <- b:
			return true
		case <-ctx.Done():
			return false
		}
	}
	say := func(p string) {
		if phase != nil {
			phase(p)
		}
	}
	born := time.Date(1900, 1, 1, 0, 0, 0, 0, time.UTC)
	say("authors")
	per := rowsPerBatch(len(authorCols))
	for start := 0; start < nAuthors; start += per {
		n := min(per, nAuthors-start)
		args := make([]any, 0, n*len(authorCols))
		for i := range n {
			id := authorBase + int64(start+i) + 1
			name := g.name()
			email := strings.ToLower(strings.ReplaceAll(strings.ReplaceAll(name, ".", ""), " ", ".")) + strconv.FormatInt(id, 10) + "@example.org"
			var birth any
			if g.r.IntN(10) > 0 {
				birth = g.date(born, 100*365)
			}
			args = append(args, id, name, email, birth)
		}
		if !send(batch{table: "library_authors", cols: authorCols, rows: n, args: args, units: int64(n)}) {
			return
		}
	}

	say("books")
	pub := time.Date(1950, 1, 1, 0, 0, 0, 0, time.UTC)
	pubDays := int(time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC).Sub(pub).Hours() / 24)
	per = rowsPerBatch(len(bookCols))
	perLink := rowsPerBatch(len(linkCols))
	var links []any
	flush := func(final bool) bool {
		for len(links) >= perLink*2 || (final && len(links) > 0) {
			n := min(perLink, len(links)/2)
			end := n * 2
			if !send(batch{table: "library_book_tags", cols: linkCols, rows: n, args: links[:end:end]}) {
				return false
			}
			links = links[n*2:]
		}
		return true
	}
	for start := 0; start < o.Books; start += per {
		n := min(per, o.Books-start)
		args := make([]any, 0, n*len(bookCols))
		for i := range n {
			id := bookBase + int64(start+i) + 1
			price := float64(299+g.r.IntN(8700)) / 100
			args = append(args, id, g.title(), isbn(id), authorBase+1+int64(g.r.IntN(nAuthors)), g.genre(),
				g.date(pub, pubDays), 40+g.r.IntN(900), price, g.r.IntN(4) != 0)
			// 0-3 distinct tags, fewer more often.
			k := [...]int{0, 0, 0, 1, 1, 1, 1, 2, 2, 3}[g.r.IntN(10)]
			first := g.r.IntN(len(tagIDs))
			for j := range k {
				links = append(links, id, tagIDs[(first+j*7)%len(tagIDs)])
			}
		}
		if !send(batch{table: "library_books", cols: bookCols, rows: n, args: args, units: int64(n)}) {
			return
		}
		if !flush(false) {
			return
		}
	}
	if !flush(true) {
		return
	}

	say("loans")
	dueFrom := time.Date(2025, 6, 1, 0, 0, 0, 0, time.UTC)
	per = rowsPerBatch(len(loanCols))
	for start := 0; start < nLoans; start += per {
		n := min(per, nLoans-start)
		args := make([]any, 0, n*len(loanCols))
		for i := range n {
			id := loanBase + int64(start+i) + 1
			args = append(args, id, bookBase+1+int64(g.r.IntN(o.Books)), g.pick(firstNames)+" "+g.pick(lastNames),
				g.date(dueFrom, 365), g.r.IntN(10) < 6)
		}
		if !send(batch{table: "library_loans", cols: loanCols, rows: n, args: args, units: int64(n)}) {
			return
		}
	}
}
