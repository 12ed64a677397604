package admin

import (
	"fmt"
	"net/url"
	"slices"
	"strconv"
	"time"

	"github.com/gin-gonic/gin"
	"gorm.io/gorm"
	"gorm.io/gorm/clause"
)

// Filter is one box of the changelist's filter sidebar. Build filters with
// BoolFilter, ChoiceFilter, ForeignKeyFilter, DateFilter or CustomFilter.
type Filter interface {
	spec(m *model) (filterSpec, error)
}

// filterSpec is a resolved filter: the query keys it owns, its links and
// how it narrows a query. Values that do not parse are a 400.
type filterSpec struct {
	title  string
	column string // the filtered column: its translated label is the title
	// dataLabels: option labels are data (related rows), not message
	// ids, except the first ("All").
	dataLabels bool
	params     []string
	options    func(c *gin.Context) ([]filterOption, error)
	apply      func(db *gorm.DB, q url.Values) (*gorm.DB, error)
}

type filterOption struct {
	label string
	set   map[string]string // the filter's params; empty means "all"
}

type filterFunc func(m *model) (filterSpec, error)

func (f filterFunc) spec(m *model) (filterSpec, error) { return f(m) }

func (m *model) resolveFilters() error {
	for _, f := range m.opts.filters {
		s, err := f.spec(m)
		if err != nil {
			return fmt.Errorf("ListFilter: %w", err)
		}
		m.filters = append(m.filters, s)
	}
	return nil
}

func (m *model) col(name string) clause.Column {
	return clause.Column{Table: m.schema.Table, Name: name}
}

// BoolFilter filters a boolean column: all, yes, no.
func BoolFilter(column string) Filter {
	return filterFunc(func(m *model) (filterSpec, error) {
		if err := m.listable(column); err != nil || m.cols[column].kind != "bool" {
			return filterSpec{}, fmt.Errorf("BoolFilter(%q): not a boolean column", column)
		}
		return filterSpec{
			title:  m.cols[column].label,
			column: column,
			params: []string{column},
			options: func(*gin.Context) ([]filterOption, error) {
				return []filterOption{{"admin_filter_all", nil}, {"admin_yes", map[string]string{column: "1"}}, {"admin_no", map[string]string{column: "0"}}}, nil
			},
			apply: func(db *gorm.DB, q url.Values) (*gorm.DB, error) {
				switch q.Get(column) {
				case "1":
					return db.Where(clause.Eq{Column: m.col(column), Value: true}), nil
				case "0":
					return db.Where(clause.Eq{Column: m.col(column), Value: false}), nil
				}
				return nil, fmt.Errorf("%s must be 1 or 0", column)
			},
		}, nil
	})
}

// ChoiceFilter filters a column with Choices by its values.
func ChoiceFilter(column string) Filter {
	return filterFunc(func(m *model) (filterSpec, error) {
		if err := m.listable(column); err != nil || len(m.cols[column].choices) == 0 {
			return filterSpec{}, fmt.Errorf("ChoiceFilter(%q): not a column with Choices", column)
		}
		choices := m.cols[column].choices
		return filterSpec{
			title:  m.cols[column].label,
			column: column,
			params: []string{column},
			options: func(*gin.Context) ([]filterOption, error) {
				out := []filterOption{{"admin_filter_all", nil}}
				for _, ch := range choices {
					out = append(out, filterOption{ch.Label, map[string]string{column: ch.Value}})
				}
				return out, nil
			},
			apply: func(db *gorm.DB, q url.Values) (*gorm.DB, error) {
				v := q.Get(column)
				if !slices.ContainsFunc(choices, func(c Choice) bool { return c.Value == v }) {
					return nil, fmt.Errorf("%s: %q is not one of the choices", column, v)
				}
				return db.Where(clause.Eq{Column: m.col(column), Value: v}), nil
			},
		}, nil
	})
}

// ForeignKeyFilter filters a belongs-to foreign key by the related rows
// (the first 50, ordered by primary key).
func ForeignKeyFilter(column string) Filter {
	return filterFunc(func(m *model) (filterSpec, error) {
		c := m.cols[column]
		if err := m.listable(column); err != nil || c.kind != "fk" {
			return filterSpec{}, fmt.Errorf("ForeignKeyFilter(%q): not a foreign key", column)
		}
		return filterSpec{
			title:      c.label,
			column:     column,
			dataLabels: true,
			params:     []string{column},
			options: func(g *gin.Context) ([]filterOption, error) {
				rows, err := m.site.related(g, c, "", 50)
				if err != nil {
					return nil, err
				}
				out := []filterOption{{"admin_filter_all", nil}}
				for _, r := range rows {
					out = append(out, filterOption{r.Label, map[string]string{column: r.Value}})
				}
				return out, nil
			},
			apply: func(db *gorm.DB, q url.Values) (*gorm.DB, error) {
				id, err := parseID(q.Get(column))
				if err != nil {
					return nil, fmt.Errorf("%s: %w", column, err)
				}
				return db.Where(clause.Eq{Column: m.col(column), Value: id}), nil
			},
		}, nil
	})
}

// DateFilter filters a date or time column: any date, today, past 7
// days, this month, this year (query keys column__gte and column__lt).
func DateFilter(column string) Filter {
	return filterFunc(func(m *model) (filterSpec, error) {
		c := m.cols[column]
		if err := m.listable(column); err != nil || (c.kind != "date" && c.kind != "datetime") {
			return filterSpec{}, fmt.Errorf("DateFilter(%q): not a date column", column)
		}
		gte, lt := column+"__gte", column+"__lt"
		day := func(t time.Time) string { return t.Format(time.DateOnly) }
		return filterSpec{
			title:  c.label,
			column: column,
			params: []string{gte, lt},
			options: func(*gin.Context) ([]filterOption, error) {
				now := m.site.auth.Now().UTC()
				today := time.Date(now.Year(), now.Month(), now.Day(), 0, 0, 0, 0, time.UTC)
				month := time.Date(now.Year(), now.Month(), 1, 0, 0, 0, 0, time.UTC)
				year := time.Date(now.Year(), 1, 1, 0, 0, 0, 0, time.UTC)
				tomorrow := day(today.AddDate(0, 0, 1))
				return []filterOption{
					{"admin_filter_any_date", nil},
					{"admin_filter_today", map[string]string{gte: day(today), lt: tomorrow}},
					{"admin_filter_past_7_days", map[string]string{gte: day(today.AddDate(0, 0, -7)), lt: tomorrow}},
					{"admin_filter_this_month", map[string]string{gte: day(month), lt: day(month.AddDate(0, 1, 0))}},
					{"admin_filter_this_year", map[string]string{gte: day(year), lt: day(year.AddDate(1, 0, 0))}},
				}, nil
			},
			apply: func(db *gorm.DB, q url.Values) (*gorm.DB, error) {
				for _, k := range []string{gte, lt} {
					v := q.Get(k)
					if v == "" {
						continue
					}
					t, err := time.Parse(time.DateOnly, v)
					if err != nil {
						return nil, fmt.Errorf("%s: %q is not a date (YYYY-MM-DD)", k, v)
					}
					var val any = t
					if c.kind == "date" {
						val = v
					}
					if k == gte {
						db = db.Where(clause.Gte{Column: m.col(column), Value: val})
					} else {
						db = db.Where(clause.Lt{Column: m.col(column), Value: val})
					}
				}
				return db, nil
			},
		}, nil
	})
}

// CustomFilter is a filter of your own: a query key, a title, the allowed
// values with their labels, and how a value narrows the query.
func CustomFilter(param, title string, options []Choice, apply func(db *gorm.DB, value string) *gorm.DB) Filter {
	return filterFunc(func(m *model) (filterSpec, error) {
		if _, clash := m.cols[param]; clash || param == "q" || param == "o" || param == "p" {
			return filterSpec{}, fmt.Errorf("CustomFilter(%q): the key is taken", param)
		}
		return filterSpec{
			title:  title,
			params: []string{param},
			options: func(*gin.Context) ([]filterOption, error) {
				out := []filterOption{{"admin_filter_all", nil}}
				for _, o := range options {
					out = append(out, filterOption{o.Label, map[string]string{param: o.Value}})
				}
				return out, nil
			},
			apply: func(db *gorm.DB, q url.Values) (*gorm.DB, error) {
				v := q.Get(param)
				if !slices.ContainsFunc(options, func(c Choice) bool { return c.Value == v }) {
					return nil, fmt.Errorf("%s: %q is not an allowed value", param, v)
				}
				return apply(db, v), nil
			},
		}, nil
	})
}

// parseID parses a primary key strictly: decimal digits, no sign, no
// leading zeros, within uint32.
func parseID(s string) (uint, error) {
	n, err := strconv.ParseUint(s, 10, 32)
	if err != nil || n == 0 || strconv.FormatUint(n, 10) != s {
		return 0, fmt.Errorf("%q is not an id", s)
	}
	return uint(n), nil
}
