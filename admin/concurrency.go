package admin

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"reflect"
	"strings"
	"time"

	"github.com/gin-gonic/gin"
	"gorm.io/gorm"
	"gorm.io/gorm/clause"

	"github.com/gatehouse/gatehouse/internal/locale"
)

// versionField is the change form's hidden field that carries the row's
// field values as loaded (one short hash per form column), so a save can
// tell which fields someone else changed since the form was opened.
const versionField = "_version"

// versionOf hashes each form column of obj: "a1b2c3d4.e5f6a7b8...", in
// formCols order. It is not secret and needs no signature: forging it only
// lets a user overwrite a newer change, which reloading the form allows too.
func (m *model) versionOf(c *gin.Context, obj any) string {
	rv := reflect.ValueOf(obj).Elem()
	var parts []string
	for _, name := range m.formCols {
		col := m.cols[name]
		if col.field == nil { // many-to-many links are not versioned
			continue
		}
		val, _ := col.field.ValueOf(c.Request.Context(), rv)
		sum := sha256.Sum256([]byte(canonical(val)))
		parts = append(parts, hex.EncodeToString(sum[:4]))
	}
	return strings.Join(parts, ".")
}

// canonical renders a value the same way however the driver returned it.
func canonical(v any) string {
	rv := reflect.ValueOf(v)
	for rv.IsValid() && rv.Kind() == reflect.Pointer {
		if rv.IsNil() {
			return "\x00null"
		}
		rv = rv.Elem()
	}
	if !rv.IsValid() {
		return "\x00null"
	}
	if t, ok := rv.Interface().(time.Time); ok {
		return t.UTC().Format(time.RFC3339Nano)
	}
	return fmt.Sprint(rv.Interface())
}

// conflictError stops a save whose form is older than the row: Fields are
// the labels of the columns someone else changed meanwhile.
type conflictError struct {
	fields  []string
	version string // the row's current version, for the re-rendered form
}

func (e *conflictError) Error() string { return "admin: the object changed since the form was loaded" }

// errGone stops a save whose object was deleted (or left the scope) since
// the form was loaded.
var errGone = fmt.Errorf("admin: the object no longer exists")

// lockFresh locks obj's row for the rest of tx and returns its current
// state: SELECT ... FOR UPDATE on PostgreSQL and MySQL; SQLite has no row
// locks, so a no-op UPDATE takes the database's write lock first. Two saves
// of the same row therefore run one after the other, and the second sees
// the first one's values.
func (m *model) lockFresh(c *gin.Context, tx *gorm.DB, obj any) (any, error) {
	id, _ := m.pk.ValueOf(c.Request.Context(), reflect.ValueOf(obj).Elem())
	where := clause.Eq{Column: clause.Column{Table: m.schema.Table, Name: m.pk.DBName}, Value: id}
	if tx.Dialector.Name() == "sqlite" {
		if err := tx.Session(&gorm.Session{NewDB: true}).Model(m.newOne()).Where(where).
			UpdateColumn(m.pk.DBName, gorm.Expr("?", clause.Column{Name: m.pk.DBName})).Error; err != nil {
			return nil, err
		}
	}
	q := tx.Session(&gorm.Session{NewDB: true}).Model(m.newOne())
	if m.hooks.scope != nil {
		q = m.hooks.scope(c, q)
	}
	fresh := m.newOne()
	res := q.Clauses(clause.Locking{Strength: clause.LockingStrengthUpdate}).Where(where).Limit(1).Find(fresh)
	if res.Error != nil {
		return nil, res.Error
	}
	if res.RowsAffected == 0 {
		return nil, errGone
	}
	return fresh, nil
}

// checkVersion compares the posted version with the locked row's. An
// absent version (an API client, not a rendered form) skips the check; a
// rendered form always carries one.
func (m *model) checkVersion(c *gin.Context, l *locale.Lang, posted string, fresh any) error {
	if posted == "" {
		return nil
	}
	now := m.versionOf(c, fresh)
	if now == posted {
		return nil
	}
	was, is := strings.Split(posted, "."), strings.Split(now, ".")
	var fields []string
	i := 0
	for _, name := range m.formCols {
		if m.cols[name].field == nil {
			continue
		}
		if len(was) != len(is) || was[i] != is[i] {
			fields = append(fields, m.label(l, name))
		}
		i++
	}
	return &conflictError{fields: fields, version: now}
}

// refresh copies every column the form does not edit from the locked row
// into obj, so the write (which goes through the whole model value, GORM
// hooks included) never puts back a stale value of a column someone else
// changed: a password, a counter, a hook-maintained field.
func (m *model) refresh(c *gin.Context, obj, fresh any) {
	ctx := c.Request.Context()
	dst, src := reflect.ValueOf(obj).Elem(), reflect.ValueOf(fresh).Elem()
	editable := map[string]bool{}
	for _, col := range m.editable() {
		editable[col.name] = true
	}
	for _, f := range m.schema.Fields {
		if f.DBName == "" || editable[f.DBName] || f.PrimaryKey {
			continue
		}
		f.ReflectValueOf(ctx, dst).Set(f.ReflectValueOf(ctx, src))
	}
}
