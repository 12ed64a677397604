package admin

import (
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/gin-gonic/gin"
	"gorm.io/gorm"
	"gorm.io/gorm/clause"

	"github.com/gatehouse/gatehouse/internal/locale"
)

// listQuery is a parsed, validated changelist query string.
type listQuery struct {
	raw     url.Values
	q       string
	order   []string // "-published", "title": validated column names
	page    int      // 1-based
	all     bool
	filters []filterSpec // active filters
}

// errDisallowed is a query key or value outside the allow-lists: 400.
type errDisallowed struct{ msg string }

func (e *errDisallowed) Error() string { return e.msg }

func disallowed(format string, a ...any) error { return &errDisallowed{fmt.Sprintf(format, a...)} }

const maxTerms = 5

// parseQuery accepts only the keys and values the model admin declared.
func (m *model) parseQuery(q url.Values) (*listQuery, error) {
	lq := &listQuery{raw: q, page: 1}
	allowed := map[string]bool{"q": true, "o": true, "p": true, "all": true, "lang": true}
	for _, f := range m.filters {
		for _, p := range f.params {
			allowed[p] = true
		}
	}
	for k, vs := range q {
		if !allowed[k] {
			return nil, disallowed("filtering by %q is not allowed", k)
		}
		if len(vs) > 1 {
			return nil, disallowed("%q is given more than once", k)
		}
	}
	lq.q = strings.TrimSpace(q.Get("q"))
	if len(lq.q) > 200 {
		return nil, disallowed("the search is too long")
	}
	if o := q.Get("o"); o != "" {
		seen := map[string]bool{}
		for _, part := range strings.Split(o, ".") {
			name := strings.TrimPrefix(part, "-")
			if !slices.Contains(m.opts.sortable, name) || seen[name] {
				return nil, disallowed("sorting by %q is not allowed", part)
			}
			seen[name] = true
			lq.order = append(lq.order, part)
		}
		if len(lq.order) > 5 {
			return nil, disallowed("at most 5 sort columns")
		}
	}
	if p := q.Get("p"); p != "" {
		n, err := strconv.Atoi(p)
		if err != nil || n < 1 || strconv.Itoa(n) != p || n > 1_000_000 {
			return nil, disallowed("%q is not a page number", p)
		}
		lq.page = n
	}
	if a := q.Get("all"); a != "" {
		if a != "1" {
			return nil, disallowed("all must be 1")
		}
		lq.all = true
	}
	for _, f := range m.filters {
		for _, p := range f.params {
			if q.Get(p) != "" {
				lq.filters = append(lq.filters, f)
				break
			}
		}
	}
	return lq, nil
}

// likePattern escapes LIKE wildcards with '!', which works as ESCAPE
// character on SQLite, PostgreSQL and MySQL alike.
func likePattern(term string) string {
	r := strings.NewReplacer("!", "!!", "%", "!%", "_", "!_")
	return "%" + r.Replace(strings.ToLower(term)) + "%"
}

// searchWhere narrows db to rows where every term is in some search field.
// A belongs-to relation's column is searched with a subquery on the
// related table (fk IN (SELECT key FROM related WHERE ...)): the related
// table is scanned once per term instead of joined to every row, and no
// row can be repeated. The related rows searched are those the user may
// see (visibleRows): a hidden row's name is never a way to find its
// referrers. withRelations false leaves relations out.
func (m *model) searchWhere(c *gin.Context, db *gorm.DB, q string, withRelations bool) *gorm.DB {
	terms := strings.Fields(q)
	if len(terms) > maxTerms {
		terms = terms[:maxTerms]
	}
	for _, term := range terms {
		var ors []clause.Expression
		for _, s := range m.opts.search {
			t, _ := m.searchColumn(s)
			like := m.site.likeExpr(clause.Column{Table: t.table, Name: t.column}, term)
			if t.fk == "" {
				ors = append(ors, like)
				continue
			}
			if !withRelations {
				continue
			}
			visible, ok := m.site.visibleRows(c, t.rel.FieldSchema)
			if !ok {
				continue
			}
			sub := visible.Select("?", clause.Column{Table: t.table, Name: t.relKey}).Where(like)
			ors = append(ors, clause.Expr{SQL: "? IN (?)", Vars: []any{m.col(t.fk), sub}})
		}
		if len(ors) > 0 {
			db = db.Where(clause.Or(ors...))
		}
	}
	return db
}

// likeExpr is a case-insensitive "col contains term". SQLite's LIKE
// already ignores ASCII case and its LOWER changes nothing else, so on
// SQLite the column is compared as is: the same rows, without a function
// call per row (three times faster on a full scan). Elsewhere both sides
// are lower-cased (PostgreSQL's LIKE and MySQL's binary collations are
// case-sensitive).
func (s *Site) likeExpr(col clause.Column, term string) clause.Expression {
	if s.db().Dialector.Name() == "sqlite" {
		return clause.Expr{SQL: "? LIKE ? ESCAPE '!'", Vars: []any{col, likePattern(term)}}
	}
	return clause.Expr{SQL: "LOWER(?) LIKE ? ESCAPE '!'", Vars: []any{col, likePattern(term)}}
}

// filtered applies search and filters: the query both count and page use.
func (m *model) filtered(c *gin.Context, lq *listQuery) (*gorm.DB, error) {
	db := m.scoped(c)
	if lq.q != "" {
		db = m.searchWhere(c, db, lq.q, true)
	}
	for _, f := range lq.filters {
		var err error
		if db, err = f.apply(db, lq.raw); err != nil {
			return nil, disallowed("%v", err)
		}
	}
	return db, nil
}

func (m *model) orderBy(lq *listQuery) clause.OrderBy {
	order := lq.order
	if len(order) == 0 {
		order = m.opts.ordering
	}
	var cols []clause.OrderByColumn
	hasPK := false
	for _, o := range order {
		name := strings.TrimPrefix(o, "-")
		hasPK = hasPK || name == m.pk.DBName
		cols = append(cols, clause.OrderByColumn{Column: m.col(name), Desc: strings.HasPrefix(o, "-")})
	}
	if !hasPK { // a stable order for paging
		cols = append(cols, clause.OrderByColumn{Column: m.col(m.pk.DBName), Desc: true})
	}
	return clause.OrderBy{Columns: cols}
}

// count returns the result count per the model's CountMode; capped means
// "at least n".
func (m *model) count(c *gin.Context, db *gorm.DB, lq *listQuery) (n int64, capped, known bool, err error) {
	switch m.opts.count {
	case CountNone:
		return 0, false, false, nil
	case CountEstimated:
		if lq.q == "" && len(lq.filters) == 0 {
			if n, ok := m.estimate(c); ok {
				return n, false, true, nil
			}
		}
		// The cap bounds the scan a search cannot take from an index: on
		// a million rows, counting to 10,000 matches took 10 times the
		// page query itself.
		const limit = 1000
		var k int64
		sub := db.Session(&gorm.Session{}).Select("1").Limit(limit + 1)
		err = m.site.db().WithContext(c.Request.Context()).Table("(?) AS capped", sub).Count(&k).Error
		return min(k, limit), k > limit, true, err
	}
	err = db.Session(&gorm.Session{}).Count(&n).Error
	return n, false, true, err
}

// estimate asks the database for its row estimate of the whole table.
func (m *model) estimate(c *gin.Context) (int64, bool) {
	db := m.site.db().WithContext(c.Request.Context())
	var n int64
	var err error
	switch db.Dialector.Name() {
	case "postgres":
		err = db.Raw("SELECT reltuples::bigint FROM pg_class WHERE relname = ?", m.schema.Table).Scan(&n).Error
	case "mysql":
		err = db.Raw("SELECT table_rows FROM information_schema.tables WHERE table_schema = DATABASE() AND table_name = ?", m.schema.Table).Scan(&n).Error
	default:
		err = db.Table(m.schema.Table).Select("COALESCE(MAX(rowid), 0)").Scan(&n).Error
	}
	return n, err == nil && n >= 0
}

// cell is one changelist cell.
type cell struct {
	Text string
	Link string // change page, or a safe http(s) URL value
	Num  bool
	Bool *bool
}

type header struct {
	Label    string
	SortURL  string // "" when not sortable
	Sort     string // "ascending", "descending" or ""
	Priority int
}

// row is one changelist row. Its first cell is apart (a row header), so
// the template needs no per-cell test: on a page of 100 rows the
// template's work per cell is most of the page's CPU time.
type row struct {
	ID          string
	SelectLabel string // the checkbox's accessible name
	Head        cell
	Cells       []cell
}

type pageLink struct {
	Label   string
	URL     string
	Current bool
	Gap     bool
}

type filterView struct {
	Title   string
	Options []filterOptView
}

type filterOptView struct {
	Label    string
	URL      string
	Selected bool
}

// listData is the changelist's template data.
type listData struct {
	Model, ModelPlural string
	URL, AddURL        string
	Q                  string
	Hidden             []hiddenField // current filters and order, for the search form
	Headers            []header
	Rows               []row
	Count              int64
	CountKnown, Capped bool
	Pages              []pageLink
	Prev, Next         string
	ShowAllURL         string
	Filters            []filterView
	Actions            []choiceView
	Message            string
	HasSearch          bool
	PerPage            int
}

type hiddenField struct{ Name, Value string }

type choiceView struct{ Value, Label string }

func (s *Site) changelist(c *gin.Context, m *model) {
	lq, err := m.parseQuery(c.Request.URL.Query())
	if err != nil {
		s.badLookup(c, err)
		return
	}
	d, err := s.buildList(c, m, lq)
	if err != nil {
		var dis *errDisallowed
		if errors.As(err, &dis) {
			s.badLookup(c, err)
			return
		}
		if errors.Is(err, errNoPage) {
			s.auth.Fail(c, http.StatusNotFound, "admin_no_such_page")
			return
		}
		s.serverError(c, err)
		return
	}
	l := locale.From(c)
	s.auth.HTML(c, http.StatusOK, "admin/changelist.html", "changelist", s.auth.View(c, l.T("admin_select_to_change", "Name", d.Model), d))
}

// badLookup answers 400 with the reason, like Django's DisallowedModelAdminLookup.
func (s *Site) badLookup(c *gin.Context, err error) {
	_ = c.Error(err)
	l := locale.From(c)
	s.auth.ErrorPage(c, http.StatusBadRequest, l.T("admin_bad_lookup_title"), l.T("admin_bad_lookup", "Reason", err.Error()))
}

var errNoPage = errors.New("no such page")

// deferredOffset is the offset from which a page is loaded through its keys.
const deferredOffset = 1000

func (s *Site) buildList(c *gin.Context, m *model, lq *listQuery) (*listData, error) {
	l := locale.From(c)
	db, err := m.filtered(c, lq)
	if err != nil {
		return nil, err
	}
	n, capped, known, err := m.count(c, db, lq)
	if err != nil {
		return nil, err
	}
	per := m.opts.perPage
	if lq.all && known && !capped && n <= int64(m.opts.maxShowAll) {
		per = m.opts.maxShowAll
	}
	offset := (lq.page - 1) * per
	if known && lq.page > 1 && int64(offset) >= n {
		return nil, errNoPage
	}
	order := m.orderBy(lq)
	q := db.Session(&gorm.Session{}).Clauses(order).Offset(offset).Limit(per + 1)
	if offset >= deferredOffset {
		// A deep page: skip the offset over the primary keys alone (an
		// index-only scan where an index serves the order), then load the
		// page's rows by key, instead of reading every skipped row.
		keys := db.Session(&gorm.Session{}).Select(m.schema.Table + "." + m.pk.DBName).Clauses(order).Offset(offset).Limit(per + 1)
		q = m.scoped(c).Joins("JOIN (?) AS admin_page ON ? = ?", keys, clause.Column{Table: "admin_page", Name: m.pk.DBName}, m.col(m.pk.DBName)).
			Clauses(order)
	}
	for _, name := range m.opts.listDisplay {
		if col := m.cols[name]; col != nil && (col.kind == "fk" || col.kind == "m2m") {
			q = m.site.preloadVisible(c, q, col)
		}
	}
	// A join (deep pages, scopes) selects the joined columns too; keep only the model's.
	q = q.Select(m.schema.Table + ".*")
	rows := m.newSlice()
	if err := q.Find(rows).Error; err != nil {
		return nil, err
	}
	rv := reflect.ValueOf(rows).Elem()
	hasNext := rv.Len() > per
	d := &listData{Model: tr(l, m.verbose, m.verbose), ModelPlural: tr(l, m.plural, m.plural), URL: m.url(""), Q: lq.q,
		Count: n, CountKnown: known, Capped: capped, HasSearch: len(m.opts.search) > 0, PerPage: per}
	if s.can(c, m, "add") {
		d.AddURL = m.url("add/")
	}
	d.Headers = m.headers(l, lq)
	tc := &textCache{l: l, m: map[string]string{}}
	// One translation of the row checkboxes' label for the page, with a
	// marker where each row's id goes.
	selectLabel := l.T("admin_select_row", "ID", idMarker)
	d.Rows = make([]row, 0, min(rv.Len(), per))
	for i := 0; i < min(rv.Len(), per); i++ {
		r := m.rowOf(c, tc, rv.Index(i))
		r.SelectLabel = strings.ReplaceAll(selectLabel, idMarker, r.ID)
		d.Rows = append(d.Rows, r)
	}
	d.Hidden = hiddenOf(lq.raw, "q", "p", "lang")
	s.pagination(d, m, lq, per, hasNext)
	if d.Filters, err = m.filterViews(c, l, lq); err != nil {
		return nil, err
	}
	if s.can(c, m, "delete") {
		d.Actions = append(d.Actions, choiceView{"delete_selected", l.T("admin_delete_selected", "Name", d.ModelPlural)})
	}
	for _, a := range m.actions {
		if s.can(c, m, cmpOr(a.perm, "change")) {
			d.Actions = append(d.Actions, choiceView{a.name, tr(l, a.label, a.label)})
		}
	}
	return d, nil
}

func cmpOr(a, b string) string {
	if a != "" {
		return a
	}
	return b
}

func hiddenOf(q url.Values, skip ...string) []hiddenField {
	var out []hiddenField
	for k, vs := range q {
		if slices.Contains(skip, k) || len(vs) == 0 {
			continue
		}
		out = append(out, hiddenField{k, vs[0]})
	}
	slices.SortFunc(out, func(a, b hiddenField) int { return strings.Compare(a.Name, b.Name) })
	return out
}

// withQuery returns base with q changed: set replaces keys, del removes them.
func withQuery(base string, q url.Values, set map[string]string, del ...string) string {
	n := url.Values{}
	for k, vs := range q {
		if k != "lang" {
			n[k] = vs
		}
	}
	for _, k := range del {
		n.Del(k)
	}
	for k, v := range set {
		if v == "" {
			n.Del(k)
		} else {
			n.Set(k, v)
		}
	}
	if len(n) == 0 {
		return base
	}
	return base + "?" + n.Encode()
}

func (m *model) headers(l *locale.Lang, lq *listQuery) []header {
	current := lq.order
	if len(current) == 0 {
		current = m.opts.ordering
	}
	var hs []header
	for _, name := range m.opts.listDisplay {
		h := header{Label: m.label(l, name)}
		if slices.Contains(m.opts.sortable, name) {
			dir, pos := "", 0
			for i, o := range current {
				if strings.TrimPrefix(o, "-") == name {
					pos = i + 1
					dir = "ascending"
					if strings.HasPrefix(o, "-") {
						dir = "descending"
					}
				}
			}
			next := name
			if dir == "ascending" {
				next = "-" + name
			}
			// Clicking a header makes it the primary sort, keeping the others after it.
			order := []string{next}
			for _, o := range lq.order {
				if strings.TrimPrefix(o, "-") != name && len(order) < 5 {
					order = append(order, o)
				}
			}
			h.SortURL = withQuery(m.url(""), lq.raw, map[string]string{"o": strings.Join(order, ".")}, "p")
			h.Sort, h.Priority = dir, pos
		}
		hs = append(hs, h)
	}
	return hs
}

func (m *model) label(l *locale.Lang, name string) string {
	if c, ok := m.computed[name]; ok {
		return tr(l, c.label, c.label)
	}
	c := m.cols[name]
	// A label for this model's column, else the shared one for the column name.
	return tr(l, "admin_field_"+m.app+"_"+m.name+"_"+name, tr(l, "admin_column_"+name, c.label))
}

// idMarker stands for a row's id in a label translated once per page.
const idMarker = "\x00id\x00"

// textCache translates each message id once per page: every row asks
// for the same few (yes, no, the choices' labels).
type textCache struct {
	l *locale.Lang
	m map[string]string
}

func (tc *textCache) tr(id, fallback string) string {
	key := id + "\x00" + fallback
	if s, ok := tc.m[key]; ok {
		return s
	}
	s := tr(tc.l, id, fallback)
	tc.m[key] = s
	return s
}

func (m *model) rowOf(c *gin.Context, tc *textCache, v reflect.Value) row {
	id, _ := m.pk.ValueOf(c.Request.Context(), v)
	r := row{ID: fmt.Sprint(id)}
	obj := v.Addr().Interface()
	r.Cells = make([]cell, 0, len(m.opts.listDisplay)-1)
	for i, name := range m.opts.listDisplay {
		var cl cell
		if comp, ok := m.computed[name]; ok {
			cl.Text = comp.value(obj)
		} else {
			cl = m.cellOf(c, tc, m.cols[name], v)
		}
		if cl.Text == "" {
			cl.Text = m.opts.emptyValue
		}
		if slices.Contains(m.opts.listLinks, name) {
			cl.Link = m.url(r.ID + "/change/")
		}
		if i == 0 {
			r.Head = cl
			continue
		}
		r.Cells = append(r.Cells, cl)
	}
	return r
}

// cellOf formats a column's value for display. Nothing here builds HTML:
// the template escapes every cell.
func (m *model) cellOf(c *gin.Context, tc *textCache, col *column, v reflect.Value) cell {
	ctx := c.Request.Context()
	switch col.kind {
	case "fk":
		rel := v.FieldByName(col.rel.Name)
		if rel.Kind() == reflect.Pointer {
			if rel.IsNil() {
				return cell{}
			}
			rel = rel.Elem()
		}
		id, zero := col.field.ValueOf(ctx, v)
		if zero {
			return cell{}
		}
		return cell{Text: reprOf(rel.Addr().Interface(), col.rel.FieldSchema.Name, id)}
	case "m2m":
		rel := v.FieldByName(col.rel.Name)
		var names []string
		for i := 0; i < rel.Len(); i++ {
			e := rel.Index(i)
			if e.Kind() == reflect.Pointer {
				e = e.Elem()
			}
			id, _ := col.rel.FieldSchema.PrioritizedPrimaryField.ValueOf(ctx, e)
			names = append(names, reprOf(e.Addr().Interface(), col.rel.FieldSchema.Name, id))
		}
		return cell{Text: strings.Join(names, ", ")}
	}
	val, zero := col.field.ValueOf(ctx, v)
	if zero && col.kind != "bool" && col.kind != "int" && col.kind != "float" && col.kind != "decimal" {
		return cell{}
	}
	return formatValue(tc, col, val)
}

func formatValue(tc *textCache, col *column, val any) cell {
	rv := reflect.ValueOf(val)
	if rv.Kind() == reflect.Pointer {
		if rv.IsNil() {
			return cell{}
		}
		val = rv.Elem().Interface()
	}
	switch col.kind {
	case "bool":
		b, _ := val.(bool)
		text := tc.tr("admin_no", "admin_no")
		if b {
			text = tc.tr("admin_yes", "admin_yes")
		}
		return cell{Text: text, Bool: &b}
	case "int", "float":
		return cell{Text: fmt.Sprint(val), Num: true}
	case "decimal":
		f, _ := toFloat(val)
		return cell{Text: strconv.FormatFloat(f, 'f', max(col.scale, 2), 64), Num: true}
	case "date":
		if t, ok := val.(time.Time); ok {
			return cell{Text: t.Format(time.DateOnly)}
		}
	case "datetime":
		if t, ok := val.(time.Time); ok {
			return cell{Text: t.UTC().Format("2006-01-02 15:04")}
		}
	case "choice":
		s := fmt.Sprint(val)
		for _, ch := range col.choices {
			if ch.Value == s {
				return cell{Text: tc.tr(ch.Label, ch.Label)}
			}
		}
		return cell{Text: s}
	}
	s := fmt.Sprint(val)
	if isURLColumn(col.name) {
		if u, err := url.Parse(s); err == nil && (u.Scheme == "http" || u.Scheme == "https") && u.Host != "" {
			return cell{Text: s, Link: u.String()}
		}
	}
	return cell{Text: s}
}

func isURLColumn(name string) bool {
	return strings.HasSuffix(name, "url") || strings.HasSuffix(name, "website") || strings.HasSuffix(name, "homepage")
}

func toFloat(v any) (float64, bool) {
	rv := reflect.ValueOf(v)
	switch rv.Kind() {
	case reflect.Float32, reflect.Float64:
		return rv.Float(), true
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		return float64(rv.Int()), true
	}
	return 0, false
}

func (s *Site) pagination(d *listData, m *model, lq *listQuery, per int, hasNext bool) {
	page := func(p int) string {
		if p == 1 {
			return withQuery(m.url(""), lq.raw, nil, "p", "all")
		}
		return withQuery(m.url(""), lq.raw, map[string]string{"p": strconv.Itoa(p)}, "all")
	}
	if lq.page > 1 {
		d.Prev = page(lq.page - 1)
	}
	if hasNext {
		d.Next = page(lq.page + 1)
	}
	if !d.CountKnown || d.Capped {
		return
	}
	pages := int((d.Count + int64(per) - 1) / int64(per))
	if pages > 1 && d.Count <= int64(m.opts.maxShowAll) {
		d.ShowAllURL = withQuery(m.url(""), lq.raw, map[string]string{"all": "1"}, "p")
	}
	last := 0
	for p := 1; p <= pages; p++ {
		if p <= 2 || p > pages-2 || (p >= lq.page-3 && p <= lq.page+3) {
			if last != 0 && p != last+1 {
				d.Pages = append(d.Pages, pageLink{Gap: true})
			}
			d.Pages = append(d.Pages, pageLink{Label: strconv.Itoa(p), URL: page(p), Current: p == lq.page})
			last = p
		}
	}
	if len(d.Pages) == 1 {
		d.Pages = nil
	}
}

func (m *model) filterViews(c *gin.Context, l *locale.Lang, lq *listQuery) ([]filterView, error) {
	var out []filterView
	for _, f := range m.filters {
		opts, err := f.options(c)
		if err != nil {
			return nil, err
		}
		var fv filterView
		if f.column != "" {
			fv.Title = m.label(l, f.column) // the column's translated label
		} else {
			fv.Title = tr(l, f.title, f.title)
		}
		for i, o := range opts {
			set := map[string]string{}
			for _, p := range f.params {
				set[p] = o.set[p]
			}
			selected := true
			for _, p := range f.params {
				selected = selected && lq.raw.Get(p) == o.set[p]
			}
			label := o.label
			if !f.dataLabels || i == 0 {
				label = tr(l, o.label, o.label)
			}
			fv.Options = append(fv.Options, filterOptView{Label: label, URL: withQuery(m.url(""), lq.raw, set, "p", "all"), Selected: selected})
		}
		out = append(out, fv)
	}
	return out, nil
}

// autocomplete answers the foreign-key search widget: options for a select.
func (s *Site) autocomplete(c *gin.Context, m *model) {
	col := m.cols[c.Query("field")]
	if col == nil || col.kind != "fk" || !slices.Contains(m.formCols, col.name) {
		s.badLookup(c, disallowed("no autocomplete for %q", c.Query("field")))
		return
	}
	// Django's autocomplete checks the related model's view permission:
	// without it the names of its rows are not the user's to see.
	if _, ok := s.visibleRows(c, col.rel.FieldSchema); !ok {
		s.auth.Fail(c, http.StatusForbidden, "error_forbidden")
		return
	}
	term := c.Query("term")
	if len(term) > 100 {
		term = term[:100]
	}
	rows, err := s.related(c, col, term, 20)
	if err != nil {
		s.serverError(c, err)
		return
	}
	// The answer is always the <option> fragment: rendered as a full page
	// (a request without HX-Request), the layout failed on this data (500).
	c.Request.Header.Set("HX-Request", "true")
	c.Request.Header.Del("HX-History-Restore-Request")
	s.auth.HTML(c, http.StatusOK, "admin/change_form.html", "fk-options", s.auth.View(c, "", struct {
		Options  []relatedRow
		Selected string
	}{rows, c.Query("selected")}))
}
