package admin

import (
	"errors"
	"fmt"
	"reflect"
	"slices"
	"strings"

	"github.com/gin-gonic/gin"
	"gorm.io/gorm"
	"gorm.io/gorm/clause"
	"gorm.io/gorm/schema"

	"github.com/gatehouse/gatehouse/internal/locale"
)

// onDelete is what deleting a row does to the rows that point at it, as
// declared by GORM's constraint tag, like Django's on_delete:
//
//	`gorm:"constraint:OnDelete:CASCADE"`   CASCADE: they are deleted with it
//	`gorm:"constraint:OnDelete:SET NULL"`  SET_NULL: their link is cleared
//	`gorm:"constraint:OnDelete:RESTRICT"`  PROTECT: the delete is refused
//
// NO ACTION, SET DEFAULT, SET NULL on a NOT NULL column and no declaration
// at all protect: the admin never deletes what nobody said it may.
type onDelete int

const (
	protect onDelete = iota
	cascade
	setNull
)

// maxCascadeDepth bounds how far a delete follows CASCADE; a deeper chain
// (or a cycle) protects.
const maxCascadeDepth = 5

// errProtected is a delete refused because protected rows point at the row.
var errProtected = errors.New("protected related objects exist")

// dependent is a relation whose rows point at a model: a has-one or
// has-many of the model, or a registered model's belongs-to that the model
// does not mirror. rel's references name the child's foreign key
// (ForeignKey) and the parent's key (PrimaryKey) either way.
type dependent struct {
	rel    *schema.Relationship
	child  *schema.Schema
	action onDelete
}

// actionOf reads a relation's declared OnDelete the way GORM's migrator
// does (Relationship.ParseConstraint: a has-many's tag wins over its
// belongs-to mirror), so the admin and the database follow one rule.
func actionOf(rel *schema.Relationship) onDelete {
	c := rel.ParseConstraint()
	if c == nil || len(keyRefs(rel)) != 1 {
		return protect
	}
	switch strings.Join(strings.Fields(strings.ToUpper(c.OnDelete)), " ") {
	case "CASCADE":
		return cascade
	case "SET NULL":
		if keyRefs(rel)[0].ForeignKey.NotNull {
			return protect
		}
		return setNull
	}
	return protect
}

// keyRefs are a relation's references from a child column to a parent key
// (polymorphic type values aside).
func keyRefs(rel *schema.Relationship) []*schema.Reference {
	var out []*schema.Reference
	for _, r := range rel.References {
		if r.PrimaryKey != nil {
			out = append(out, r)
		}
	}
	return out
}

// dependents lists the relations whose rows point at rows of sch.
func (s *Site) dependents(sch *schema.Schema) []dependent {
	var out []dependent
	mirrored := map[string]bool{} // "table.column" of the model's own relations
	for _, r := range append(append([]*schema.Relationship{}, sch.Relationships.HasMany...), sch.Relationships.HasOne...) {
		out = append(out, dependent{rel: r, child: r.FieldSchema, action: actionOf(r)})
		for _, ref := range keyRefs(r) {
			mirrored[r.FieldSchema.Table+"."+ref.ForeignKey.DBName] = true
		}
	}
	for _, m := range s.models {
		for _, r := range m.schema.Relationships.BelongsTo {
			refs := keyRefs(r)
			if r.FieldSchema.Table != sch.Table || len(refs) == 0 || mirrored[m.schema.Table+"."+refs[0].ForeignKey.DBName] {
				continue
			}
			out = append(out, dependent{rel: r, child: m.schema, action: actionOf(r)})
		}
	}
	return out
}

// links are the many-to-many join tables holding rows of sch: its own
// many-to-many relations and registered models' ones that point at it.
// Their rows always go with the row, as Django's auto-created through rows.
type link struct {
	table, column string // the join table and its column holding sch's key
	key           string // sch's key column
	label         func(l *locale.Lang) string
}

func (s *Site) links(sch *schema.Schema) []link {
	var out []link
	add := func(r *schema.Relationship, own bool, label func(*locale.Lang) string) {
		for _, ref := range r.References {
			if ref.PrimaryKey != nil && ref.OwnPrimaryKey == own && ref.PrimaryKey.Schema.Table == sch.Table {
				out = append(out, link{table: r.JoinTable.Table, column: ref.ForeignKey.DBName, key: ref.PrimaryKey.DBName, label: label})
			}
		}
	}
	for _, r := range sch.Relationships.Many2Many {
		name, col := humanize(r.Name), strings.ToLower(r.Name)
		own := s.modelOf(sch.ModelType)
		add(r, true, func(l *locale.Lang) string {
			if own != nil && own.cols[col] != nil {
				return own.label(l, col) // the field's translated label
			}
			return name
		})
	}
	for _, m := range s.models {
		for _, r := range m.schema.Relationships.Many2Many {
			if r.FieldSchema.Table == sch.Table && m.schema.Table != sch.Table {
				mm := m
				add(r, false, func(l *locale.Lang) string { return tr(l, mm.plural, mm.plural) })
			}
		}
	}
	return out
}

// rowSet is a set of rows of one model: a query on its table.
type rowSet struct {
	sch *schema.Schema
	q   func(db *gorm.DB) *gorm.DB // narrows a query on sch's table to the set
}

// model is a fresh query on the set's table, with GORM's own scopes
// (soft delete) and the set's condition.
func (rs rowSet) model(db *gorm.DB) *gorm.DB {
	return rs.q(db.Session(&gorm.Session{NewDB: true}).Model(reflect.New(rs.sch.ModelType).Interface()))
}

// keys selects the set's key column col, for a subquery.
func (rs rowSet) keys(db *gorm.DB, col string) *gorm.DB {
	return rs.model(db).Select("?", clause.Column{Table: rs.sch.Table, Name: col})
}

// children is the set of dep's rows that point at a row of parent.
func (d dependent) children(db *gorm.DB, parent rowSet) rowSet {
	ref := keyRefs(d.rel)[0]
	polymorphic := d.rel.References
	return rowSet{sch: d.child, q: func(q *gorm.DB) *gorm.DB {
		q = q.Where(clause.Expr{SQL: "? IN (?)", Vars: []any{clause.Column{Table: d.child.Table, Name: ref.ForeignKey.DBName}, parent.keys(db, ref.PrimaryKey.DBName)}})
		for _, r := range polymorphic {
			if r.PrimaryValue != "" {
				q = q.Where(clause.Eq{Column: clause.Column{Table: d.child.Table, Name: r.ForeignKey.DBName}, Value: r.PrimaryValue})
			}
		}
		return q
	}}
}

// relatedList is one kind of related objects on the delete page.
type relatedList struct {
	Items []string // "Loan: Ana (2026-02-01)"
	More  int      // beyond the listed ones, or hidden from the user
}

// Empty reports whether the list has nothing, named or counted.
func (r relatedList) Empty() bool { return len(r.Items) == 0 && r.More == 0 }

// survey fills d with what deleting the rows of set does, following
// CASCADE: the rows that go with it, those unlinked, those that protect
// it. Every row counts; only rows the user may see are named
// (visibleRows), the others are counted in More.
func (s *Site) survey(c *gin.Context, d *deleted, set rowSet, depth int) error {
	db := s.db().WithContext(c.Request.Context())
	l := locale.From(c)
	for _, dep := range s.dependents(set.sch) {
		kids := dep.children(db, set)
		list := &d.Protected
		switch {
		case dep.action == cascade && depth < maxCascadeDepth:
			list = &d.Related
		case dep.action == setNull:
			list = &d.Unlinked
		}
		n, err := s.describe(c, l, list, kids)
		if err != nil {
			return err
		}
		if n > 0 && list == &d.Related {
			s.needDelete(c, l, d, kids.sch)
			if err := s.survey(c, d, kids, depth+1); err != nil {
				return err
			}
		}
	}
	for _, lk := range s.links(set.sch) {
		if depth > 0 {
			break // a cascaded row's links go with it, unlisted
		}
		var n int64
		if err := db.Table(lk.table).Where(clause.Expr{SQL: "? IN (?)", Vars: []any{clause.Column{Name: lk.column}, set.keys(db, lk.key)}}).Count(&n).Error; err != nil {
			return err
		}
		if n > 0 {
			d.Related.Items = append(d.Related.Items, fmt.Sprintf("%s: %d", lk.label(l), n))
		}
	}
	return nil
}

// describe adds the rows of set to list: named when visible, else counted.
func (s *Site) describe(c *gin.Context, l *locale.Lang, list *relatedList, set rowSet) (int64, error) {
	db := s.db().WithContext(c.Request.Context())
	var n int64
	if err := set.model(db).Count(&n).Error; err != nil || n == 0 {
		return n, err
	}
	name := humanize(set.sch.Name)
	shown := 0
	if cm := s.modelOf(set.sch.ModelType); cm != nil {
		name = tr(l, cm.verbose, cm.verbose)
	}
	if visible, ok := s.visibleRows(c, set.sch); ok && len(list.Items) < relatedListed {
		rows := reflect.New(reflect.SliceOf(set.sch.ModelType))
		pk := set.sch.PrioritizedPrimaryField
		if err := set.q(visible).Select("?.*", clause.Table{Name: set.sch.Table}).Order(clause.OrderByColumn{Column: clause.Column{Table: set.sch.Table, Name: pk.DBName}}).
			Limit(relatedListed - len(list.Items)).Find(rows.Interface()).Error; err != nil {
			return n, err
		}
		for i := 0; i < rows.Elem().Len(); i++ {
			e := rows.Elem().Index(i)
			id, _ := pk.ValueOf(c.Request.Context(), e)
			list.Items = append(list.Items, name+": "+reprOf(e.Addr().Interface(), set.sch.Name, id))
		}
		shown = rows.Elem().Len()
	}
	list.More += int(n) - shown
	return n, nil
}

// deleteRows deletes the rows of set in tx as declared: protected rows
// refuse it (errProtected), SET NULL rows are unlinked, CASCADE rows are
// deleted first, deepest first, then the many-to-many links. The rows of
// set themselves are left to the caller.
func (s *Site) deleteRows(tx *gorm.DB, set rowSet, depth int) error {
	for _, dep := range s.dependents(set.sch) {
		kids := dep.children(tx, set)
		switch {
		case dep.action == setNull:
			ref := keyRefs(dep.rel)[0]
			if err := kids.model(tx).UpdateColumn(ref.ForeignKey.DBName, nil).Error; err != nil {
				return err
			}
		case dep.action == cascade && depth < maxCascadeDepth:
			if err := s.deleteRows(tx, kids, depth+1); err != nil {
				return err
			}
			if err := kids.model(tx).Delete(reflect.New(kids.sch.ModelType).Interface()).Error; err != nil {
				return err
			}
		default:
			var n int64
			if err := kids.model(tx).Count(&n).Error; err != nil {
				return err
			}
			if n > 0 {
				return errProtected
			}
		}
	}
	for _, lk := range s.links(set.sch) {
		if err := tx.Session(&gorm.Session{NewDB: true}).Table(lk.table).
			Where(clause.Expr{SQL: "? IN (?)", Vars: []any{clause.Column{Name: lk.column}, set.keys(tx, lk.key)}}).
			Delete(map[string]any{}).Error; err != nil {
			return err
		}
	}
	return nil
}

// oneRow is the set holding obj alone.
func (m *model) oneRow(c *gin.Context, obj any) rowSet {
	id, _ := m.pk.ValueOf(c.Request.Context(), reflect.ValueOf(obj).Elem())
	return rowSet{sch: m.schema, q: func(q *gorm.DB) *gorm.DB {
		return q.Where(clause.Eq{Column: m.col(m.pk.DBName), Value: id})
	}}
}

// needDelete notes in d a model whose rows go with the deleted one while
// the user may not delete its rows in its own admin.
func (s *Site) needDelete(c *gin.Context, l *locale.Lang, d *deleted, sch *schema.Schema) {
	cm := s.modelOf(sch.ModelType)
	if cm == nil || s.can(c, cm, "delete") {
		return
	}
	name := tr(l, cm.plural, cm.plural)
	if !slices.Contains(d.Denied, name) {
		d.Denied = append(d.Denied, name)
	}
}
