package admin

import (
	"fmt"
	"reflect"
	"slices"

	"github.com/gin-gonic/gin"
	"gorm.io/gorm"
	"gorm.io/gorm/clause"
	"gorm.io/gorm/schema"
)

// visibleRows is the query for the rows of sch that the request's user may
// see wherever they appear — foreign-key and many-to-many choices,
// autocomplete, filter options, search across relations, inlines, the
// delete page — like Django's get_queryset and has_view_permission of the
// related model admin. A model with an admin gets its Scope; ok is false
// when the user may not view it at all. A model without an admin has no
// scope and no view permission of its own: all its rows.
func (s *Site) visibleRows(c *gin.Context, sch *schema.Schema) (db *gorm.DB, ok bool) {
	if rm := s.modelOf(sch.ModelType); rm != nil {
		if !s.can(c, rm, "view") {
			return nil, false
		}
		return rm.scoped(c), true
	}
	return s.db().WithContext(c.Request.Context()).Model(reflect.New(sch.ModelType).Interface()), true
}

// visibleOrNone is visibleRows, with a query that matches nothing when
// the user may not view the model: choices and filters stay empty.
func (s *Site) visibleOrNone(c *gin.Context, sch *schema.Schema) *gorm.DB {
	db, ok := s.visibleRows(c, sch)
	if !ok {
		return s.db().WithContext(c.Request.Context()).Model(reflect.New(sch.ModelType).Interface()).Where("1 = 0")
	}
	return db
}

// hiddenLinks are obj's current many-to-many links to rows the user may
// not see. A save keeps them: the form neither showed them nor let the user
// choose them, so replacing the links must not drop another tenant's.
func (m *model) hiddenLinks(c *gin.Context, col *column, obj any) ([]any, error) {
	ctx := c.Request.Context()
	if _, zero := m.pk.ValueOf(ctx, reflect.ValueOf(obj).Elem()); zero {
		return nil, nil // a new object has no links yet
	}
	rs := col.rel.FieldSchema
	pk := rs.PrioritizedPrimaryField
	linked := reflect.New(reflect.SliceOf(rs.ModelType))
	if err := m.site.db().WithContext(ctx).Model(obj).Association(col.rel.Name).Find(linked.Interface()); err != nil {
		return nil, err
	}
	var ids []any
	for i := 0; i < linked.Elem().Len(); i++ {
		id, _ := pk.ValueOf(ctx, linked.Elem().Index(i))
		ids = append(ids, id)
	}
	if len(ids) == 0 {
		return nil, nil
	}
	seen := map[string]bool{}
	if visible, ok := m.site.visibleRows(c, rs); ok {
		var shown []any
		if err := visible.Where(clause.IN{Column: clause.Column{Table: rs.Table, Name: pk.DBName}, Values: ids}).
			Select("?", clause.Column{Table: rs.Table, Name: pk.DBName}).Pluck(pk.DBName, &shown).Error; err != nil {
			return nil, err
		}
		for _, id := range shown {
			seen[fmt.Sprint(id)] = true
		}
	}
	var out []any
	for i, id := range ids {
		if !seen[fmt.Sprint(id)] {
			out = append(out, linked.Elem().Index(i).Addr().Interface())
		}
	}
	return out, nil
}

// keepCurrent adds the field's current value to its options when they
// lack it (a row the user may not see, or past the list's limit): a select
// without it would silently pick another row. Its label is only the id,
// which the form holds anyway; saving it is refused unless visible.
func keepCurrent(opts []relatedRow, col *column, value string) []relatedRow {
	if value == "" || slices.ContainsFunc(opts, func(r relatedRow) bool { return r.Value == value }) {
		return opts
	}
	return append([]relatedRow{{Value: value, Label: col.rel.FieldSchema.Name + " #" + value}}, opts...)
}

// preloadVisible preloads a relation column's rows for the changelist,
// only those the user may see: a hidden row's cell stays empty.
func (s *Site) preloadVisible(c *gin.Context, q *gorm.DB, col *column) *gorm.DB {
	rm := s.modelOf(col.rel.FieldSchema.ModelType)
	switch {
	case rm == nil:
		return q.Preload(col.rel.Name)
	case !s.can(c, rm, "view"):
		return q
	case rm.hooks.scope == nil:
		return q.Preload(col.rel.Name)
	}
	return q.Preload(col.rel.Name, func(db *gorm.DB) *gorm.DB { return rm.hooks.scope(c, db) })
}
