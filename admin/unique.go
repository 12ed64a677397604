package admin

import (
	"database/sql/driver"
	"errors"
	"reflect"
	"slices"
	"strings"
	"sync"

	"github.com/gin-gonic/gin"
	"gorm.io/gorm"
	"gorm.io/gorm/clause"
	"gorm.io/gorm/schema"

	"github.com/gatehouse/gatehouse/internal/locale"
)

// uniqueSet is one uniqueness rule of a model, as Django's unique and
// unique_together: a `unique` column, a `uniqueIndex`, or a named
// (possibly composite) unique index.
type uniqueSet struct {
	cols []*column
}

// resolveUnique collects the model's uniqueness rules from its GORM
// schema. Partial unique indexes (with a WHERE) cannot be checked in Go;
// the database still enforces them and a violation maps to the form.
func (m *model) resolveUnique() {
	seen := map[string]bool{}
	add := func(cols []*column) {
		var names []string
		for _, c := range cols {
			names = append(names, c.name)
		}
		key := strings.Join(names, ",")
		if !seen[key] {
			seen[key] = true
			m.uniques = append(m.uniques, uniqueSet{cols: cols})
		}
	}
	for _, n := range m.colOrder {
		if c := m.cols[n]; c.field != nil && c.field.Unique && !c.field.PrimaryKey {
			add([]*column{c})
		}
	}
	for _, idx := range m.indexes() {
		if !strings.EqualFold(idx.Class, "UNIQUE") || idx.Where != "" {
			continue
		}
		var cols []*column
		for _, f := range idx.Fields {
			if f.Field == nil || m.cols[f.DBName] == nil {
				cols = nil
				break
			}
			cols = append(cols, m.cols[f.DBName])
		}
		if len(cols) > 0 {
			add(cols)
		}
	}
}

// checked reports whether the form decides every column of the rule, so
// the rule can be checked before the write (Django skips rules that involve
// fields outside the form the same way).
func (u uniqueSet) checked(m *model) bool {
	for _, c := range u.cols {
		if !slices.Contains(m.formCols, c.name) {
			return false
		}
	}
	return true
}

// checkUnique checks every uniqueness rule against the other rows before
// the write, as Django's validate_unique: a clash of one column is an error
// on that field, of several an error on the form. Soft-deleted rows count,
// because the database's index holds them too. Rules where a value is NULL
// never clash (SQL's NULLs are distinct).
func (m *model) checkUnique(c *gin.Context, l *locale.Lang, obj any, created bool) (fieldErrors, error) {
	ctx := c.Request.Context()
	rv := reflect.ValueOf(obj).Elem()
	errs := fieldErrors{}
	for _, u := range m.uniques {
		if !u.checked(m) {
			continue
		}
		q := m.site.db().WithContext(ctx).Model(m.newOne()).Unscoped()
		null := false
		for _, col := range u.cols {
			val, _ := col.field.ValueOf(ctx, rv)
			if isNull(val) {
				null = true
				break
			}
			q = q.Where(clause.Eq{Column: clause.Column{Table: m.schema.Table, Name: col.name}, Value: val})
		}
		if null {
			continue
		}
		if !created {
			id, _ := m.pk.ValueOf(ctx, rv)
			q = q.Where(clause.Neq{Column: clause.Column{Table: m.schema.Table, Name: m.pk.DBName}, Value: id})
		}
		var n int64
		if err := q.Count(&n).Error; err != nil {
			return nil, err
		}
		if n > 0 {
			key, labels := "", make([]string, len(u.cols))
			for i, col := range u.cols {
				labels[i] = m.label(l, col.name)
			}
			if len(u.cols) == 1 {
				key = u.cols[0].name
			}
			if errs[key] == "" {
				errs[key] = l.T("admin_unique", "Name", tr(l, m.verbose, m.verbose), "Field", strings.Join(labels, ", "))
			}
		}
	}
	return errs, nil
}

// isNull reports whether a field value is SQL NULL: a nil pointer or an
// invalid sql.Null*.
func isNull(v any) bool {
	if v == nil {
		return true
	}
	rv := reflect.ValueOf(v)
	if rv.Kind() == reflect.Pointer && rv.IsNil() {
		return true
	}
	if dv, ok := v.(driver.Valuer); ok {
		x, err := dv.Value()
		return err == nil && x == nil
	}
	return false
}

// isUniqueViolation recognises a unique-constraint error on every dialect,
// whether or not the developer's gorm.Config translates errors: GORM's
// ErrDuplicatedKey, PostgreSQL's SQLSTATE 23505, MySQL's error 1062 and
// SQLite's "UNIQUE constraint failed" (both the cgo and the pure-Go driver).
func isUniqueViolation(err error) bool {
	if errors.Is(err, gorm.ErrDuplicatedKey) {
		return true
	}
	var pg interface{ SQLState() string }
	if errors.As(err, &pg) {
		return pg.SQLState() == "23505"
	}
	msg := err.Error()
	return strings.Contains(msg, "UNIQUE constraint failed") || strings.HasPrefix(msg, "Error 1062 ") || strings.Contains(msg, "Error 1062 (23000)")
}

// uniqueRaceErrors attributes a unique violation the database reported
// after the checks passed (another request wrote the same value in
// between): the rules are checked again, now that the other row is
// committed, so the error lands on the right field. When no rule explains
// it (a partial index, a unique column outside the form), the form says so.
func (m *model) uniqueRaceErrors(c *gin.Context, l *locale.Lang, obj any, created bool) fieldErrors {
	errs, err := m.checkUnique(c, l, obj, created)
	if err != nil || len(errs) == 0 {
		return fieldErrors{"": l.T("admin_duplicate")}
	}
	for k := range errs {
		if k != "" && !slices.Contains(m.formCols, k) {
			errs[""] = errs[k] // a field the form does not show
			delete(errs, k)
		}
	}
	return errs
}

// indexes are the model's indexes. GORM's ParseIndexes writes to the
// schema's fields, and schemas are shared by every goroutine that uses
// the model (sites, migrations), so it runs on a private copy.
func (m *model) indexes() []*schema.Index {
	private, err := schema.Parse(reflect.New(m.schema.ModelType).Interface(), &sync.Map{}, m.site.db().NamingStrategy)
	if err != nil {
		return nil
	}
	return private.ParseIndexes()
}
