package admin

import (
	"fmt"
	"net/url"
	"reflect"
	"strconv"
	"strings"

	"github.com/gin-gonic/gin"
	"gorm.io/gorm"
	"gorm.io/gorm/clause"
	"gorm.io/gorm/schema"

	"github.com/gatehouse/gatehouse/internal/locale"
)

// inline is a resolved tabular inline: a has-many relation and the child
// model's editable columns.
type inline struct {
	rel   *schema.Relationship
	child *model
	fk    *schema.Field // the child's column pointing at the parent
	extra int
}

const maxInlineRows = 500

func (m *model) resolveInlines() error {
	for _, in := range m.opts.inlines {
		var rel *schema.Relationship
		for _, r := range m.schema.Relationships.HasMany {
			if r.Name == in.Field {
				rel = r
			}
		}
		if rel == nil || len(rel.References) != 1 {
			return fmt.Errorf("Inlines: %q is not a has-many relation", in.Field)
		}
		typ := rel.FieldSchema.ModelType
		child := &model{site: m.site, schema: rel.FieldSchema, typ: typ, app: m.app, name: strings.ToLower(rel.FieldSchema.Name),
			verbose: humanize(rel.FieldSchema.Name),
			opts:    options{fields: in.Fields, exclude: []string{rel.References[0].ForeignKey.DBName}},
			newOne:  func() any { return reflect.New(typ).Interface() }, newSlice: func() any { return reflect.New(reflect.SliceOf(typ)).Interface() }}
		child.computed = map[string]computedCol{}
		if err := child.prepare(); err != nil {
			return fmt.Errorf("Inlines %q: %w", in.Field, err)
		}
		extra := in.Extra
		if extra == 0 {
			extra = 1
		}
		m.inlines = append(m.inlines, inline{rel: rel, child: child, fk: rel.References[0].ForeignKey, extra: extra})
	}
	return nil
}

// inlineChange is one child row to write.
type inlineChange struct {
	in      *inline
	obj     any
	created bool
	delete  bool
	summary string
}

// prefixed extracts the fields of row prefix from a post ("loans-0-borrower" → "borrower").
func prefixed(form url.Values, prefix string) url.Values {
	out := url.Values{}
	for k, v := range form {
		if rest, ok := strings.CutPrefix(k, prefix); ok {
			out[rest] = v
		}
	}
	return out
}

func (m *model) bindInlines(c *gin.Context, l *locale.Lang, parent any, form url.Values) ([]inlineChange, fieldErrors) {
	errs := fieldErrors{}
	var out []inlineChange
	parentID := m.idOf(c, parent)
	for i := range m.inlines {
		in := &m.inlines[i]
		name := strings.ToLower(in.rel.Name)
		total, err := strconv.Atoi(form.Get(name + "-TOTAL_FORMS"))
		if err != nil || total < 0 || total > maxInlineRows {
			continue // no inline rows posted
		}
		for r := range total {
			row := prefixed(form, fmt.Sprintf("%s-%d-", name, r))
			obj := in.child.newOne()
			created := true
			if idStr := row.Get("id"); idStr != "" {
				id, err := parseID(idStr)
				if err != nil || parentID == "0" {
					errs[""] = l.T("admin_bad_choice")
					continue
				}
				// Within the child admin's scope: a hidden row is not there.
				res := m.site.visibleOrNone(c, in.child.schema).Where(clause.Eq{Column: in.child.col(in.child.pk.DBName), Value: id}).
					Where(clause.Eq{Column: in.child.col(in.fk.DBName), Value: parentID}).Limit(1).Find(obj)
				if res.Error != nil || res.RowsAffected == 0 {
					errs[""] = l.T("admin_bad_choice") // not a child of this parent
					continue
				}
				created = false
				if row.Get("DELETE") != "" {
					out = append(out, inlineChange{in: in, obj: obj, delete: true, summary: l.T("admin_inline_deleted", "Name", tr(l, in.child.verbose, in.child.verbose))})
					continue
				}
			} else if emptyRow(row, in.child) {
				continue
			}
			_, changed, ferrs := in.child.bind(c, l, obj, row)
			for k, v := range ferrs {
				errs[fmt.Sprintf("%s-%d-%s", name, r, k)] = v
			}
			if created || len(changed) > 0 {
				msg := l.T("admin_inline_added", "Name", tr(l, in.child.verbose, in.child.verbose))
				if !created {
					msg = l.T("admin_inline_changed", "Name", tr(l, in.child.verbose, in.child.verbose), "Fields", strings.Join(changed, ", "))
				}
				out = append(out, inlineChange{in: in, obj: obj, created: created, summary: msg})
			}
		}
	}
	return out, errs
}

func emptyRow(row url.Values, child *model) bool {
	for _, c := range child.editable() {
		if strings.TrimSpace(row.Get(c.name)) != "" {
			return false
		}
	}
	return true
}

func (m *model) writeInlines(tx *gorm.DB, parent any, changes []inlineChange) error {
	pid := reflect.ValueOf(parent).Elem().FieldByIndex(m.pk.StructField.Index)
	for _, ch := range changes {
		if ch.delete {
			if err := tx.Delete(ch.obj).Error; err != nil {
				return err
			}
			continue
		}
		fv := reflect.ValueOf(ch.obj).Elem().FieldByIndex(ch.in.fk.StructField.Index)
		fv.Set(pid.Convert(fv.Type()))
		var cols []string
		for _, c := range ch.in.child.editable() {
			cols = append(cols, c.field.Name)
		}
		var err error
		if ch.created {
			err = tx.Select(append(cols, ch.in.fk.Name)).Omit(clause.Associations).Create(ch.obj).Error
		} else {
			err = tx.Model(ch.obj).Omit(clause.Associations).Select(cols).Updates(ch.obj).Error
		}
		if err != nil {
			return err
		}
	}
	return nil
}

// inlineView is a tabular inline on the form.
type inlineView struct {
	Title       string
	DeleteLabel string
	Prefix      string
	Total       int
	Headers     []string
	Rows        []inlineRow
}

type inlineRow struct {
	ID     string
	Fields []*formField
}

func (s *Site) inlineViews(c *gin.Context, l *locale.Lang, m *model, parent any, isAdd bool, posted url.Values, errs fieldErrors) ([]inlineView, error) {
	var out []inlineView
	for i := range m.inlines {
		in := &m.inlines[i]
		name := strings.ToLower(in.rel.Name)
		v := inlineView{Title: tr(l, "admin_inline_"+name, humanize(in.rel.Name)), Prefix: name, DeleteLabel: l.T("admin_delete")}
		for _, col := range in.child.editable() {
			v.Headers = append(v.Headers, in.child.label(l, col.name))
		}
		rows := in.child.newSlice()
		if !isAdd {
			// The rows the child admin's scope shows, as in its changelist.
			if err := s.visibleOrNone(c, in.child.schema).Where(clause.Eq{Column: in.child.col(in.fk.DBName), Value: m.idOf(c, parent)}).
				Order(clause.OrderByColumn{Column: in.child.col(in.child.pk.DBName)}).Limit(maxInlineRows).Find(rows).Error; err != nil {
				return nil, err
			}
		}
		rv := reflect.ValueOf(rows).Elem()
		n := rv.Len() + in.extra
		for r := range n {
			prefix := fmt.Sprintf("%s-%d-", name, r)
			var obj reflect.Value
			row := inlineRow{}
			if r < rv.Len() {
				obj = rv.Index(r)
				row.ID = in.child.idOf(c, obj.Addr().Interface())
			} else {
				obj = reflect.ValueOf(in.child.newOne()).Elem()
			}
			var rowPost url.Values
			if posted != nil {
				rowPost = prefixed(posted, prefix)
			}
			for _, col := range in.child.editable() {
				f, err := s.formFieldOf(c, l, in.child, col, obj, rowPost, false)
				if err != nil {
					return nil, err
				}
				f.Name = prefix + col.name
				f.Error = errs[prefix+col.name]
				f.Required = false // a blank extra row is skipped
				row.Fields = append(row.Fields, f)
			}
			v.Rows = append(v.Rows, row)
		}
		v.Total = n
		out = append(out, v)
	}
	return out, nil
}
