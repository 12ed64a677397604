package admin

import (
	"context"
	"errors"
	"reflect"
	"regexp"
	"strconv"
	"strings"
)

// initial is a new object holding the columns' `default:` tag values: the
// add form's initial values, as Django's field defaults. Defaults that
// are SQL expressions (CURRENT_TIMESTAMP, ...) stay to the database.
func (m *model) initial() any {
	obj := m.newOne()
	rv := reflect.ValueOf(obj).Elem()
	for _, f := range m.schema.Fields {
		if f.HasDefaultValue && f.DefaultValueInterface != nil && !f.PrimaryKey && f.DBName != "" {
			_ = f.Set(context.Background(), rv, f.DefaultValueInterface)
		}
	}
	return obj
}

// simpleCheck matches the `check:` tags the form can enforce itself:
// "pages >= 0", "name,rating <= 5" (a named check). Anything else is left
// to the database, whose refusal becomes a form error.
var simpleCheck = regexp.MustCompile(`^\s*(\w+)\s*(>=|<=|>|<)\s*(-?\d+(?:\.\d+)?)\s*$`)

// resolveChecks turns a numeric column's simple `check:` tag into the
// form's min and max (HTML attributes and a server-side check).
func (m *model) resolveChecks() {
	for _, chk := range m.schema.ParseCheckConstraints() {
		mt := simpleCheck.FindStringSubmatch(chk.Constraint)
		if mt == nil {
			continue
		}
		col := m.cols[mt[1]]
		if col == nil || (col.kind != "int" && col.kind != "float" && col.kind != "decimal") {
			continue
		}
		v, err := strconv.ParseFloat(mt[3], 64)
		if err != nil {
			continue
		}
		strict := len(mt[2]) == 1
		if strict && col.kind != "int" {
			continue // "> 0.5" has no inclusive form: the database decides
		}
		if strict && mt[2] == ">" {
			v++
		} else if strict {
			v--
		}
		if strings.HasPrefix(mt[2], ">") {
			col.min = &v
		} else {
			col.max = &v
		}
	}
}

// outOfRange returns the message id and limit when f breaks the column's
// check, or "".
func (col *column) outOfRange(f float64) (string, float64) {
	if col.min != nil && f < *col.min {
		return "admin_min_value", *col.min
	}
	if col.max != nil && f > *col.max {
		return "admin_max_value", *col.max
	}
	return "", 0
}

// limitText is the limit a range message names.
func (col *column) limitText(msg string) string {
	lim := col.min
	if msg == "admin_max_value" {
		lim = col.max
	}
	if lim == nil {
		return ""
	}
	return strconv.FormatFloat(*lim, 'f', -1, 64)
}

// isCheckViolation recognises a CHECK constraint error on every dialect:
// PostgreSQL's SQLSTATE 23514, MySQL's 3819 (MariaDB's 4025) and SQLite's
// "CHECK constraint failed".
func isCheckViolation(err error) bool {
	var pg interface{ SQLState() string }
	if errors.As(err, &pg) {
		return pg.SQLState() == "23514"
	}
	msg := err.Error()
	return strings.Contains(msg, "CHECK constraint failed") || strings.HasPrefix(msg, "Error 3819 ") || strings.HasPrefix(msg, "Error 4025 ")
}
