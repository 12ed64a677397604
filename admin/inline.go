package admin

import (
	"cmp"
	"errors"
	"fmt"
	"net/http"
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

// inline is a resolved inline: a has-many relation and the child
// model's editable columns.
type inline struct {
	rel      *schema.Relationship
	child    *model
	fk       *schema.Field // the child's column pointing at the parent
	extra    int
	min, max int
	stacked  bool
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
		if in.Min < 0 || in.Max < 0 || (in.Max > 0 && in.Min > in.Max) || in.Max > maxInlineRows {
			return fmt.Errorf("Inlines %q: Min %d and Max %d must satisfy 0 <= Min <= Max <= %d", in.Field, in.Min, in.Max, maxInlineRows)
		}
		m.inlines = append(m.inlines, inline{rel: rel, child: child, fk: rel.References[0].ForeignKey, extra: extra,
			min: in.Min, max: cmp.Or(in.Max, maxInlineRows), stacked: in.Layout == Stacked})
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

// errInlineForbidden refuses a post that adds, changes or deletes inline
// rows the user has no permission for: a rendered form never posts that.
var errInlineForbidden = errors.New("admin: inline rows changed without the child's permission")

func (s *Site) inlineRefused(c *gin.Context, err error) {
	if errors.Is(err, errInlineForbidden) {
		s.auth.Fail(c, http.StatusForbidden, "error_forbidden")
		return
	}
	s.serverError(c, err)
}

// bindInlines binds the posted rows of every inline. A blank row left at
// its initial values is skipped (Django's has_changed); a row the user
// may not add, change or delete is refused with errInlineForbidden.
func (m *model) bindInlines(c *gin.Context, l *locale.Lang, parent any, form url.Values) ([]inlineChange, fieldErrors, error) {
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
		perm := m.site.inlinePerms(c, in)
		existing, err := m.site.countChildren(c, in, parentID)
		if err != nil {
			return nil, nil, err
		}
		count := existing
		verbose := tr(l, in.child.verbose, in.child.verbose)
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
					if !perm.delete {
						return nil, nil, errInlineForbidden
					}
					count--
					out = append(out, inlineChange{in: in, obj: obj, delete: true, summary: l.T("admin_inline_deleted", "Name", verbose)})
					continue
				}
				if !perm.change {
					// Read-only rows post only their id; any posted value
					// that differs from the row is a forged change.
					if in.child.rowChanged(c, row, obj, true) {
						return nil, nil, errInlineForbidden
					}
					continue
				}
			} else {
				if !in.child.rowChanged(c, row, in.child.initial(), false) {
					continue
				}
				if !perm.add {
					return nil, nil, errInlineForbidden
				}
				obj = in.child.initial()
				count++
			}
			_, changed, ferrs := in.child.bind(c, l, obj, row)
			for k, v := range ferrs {
				errs[fmt.Sprintf("%s-%d-%s", name, r, k)] = v
			}
			if created || len(changed) > 0 {
				msg := l.T("admin_inline_added", "Name", verbose)
				if !created {
					msg = l.T("admin_inline_changed", "Name", verbose, "Fields", strings.Join(changed, ", "))
				}
				out = append(out, inlineChange{in: in, obj: obj, created: created, summary: msg})
			}
		}
		switch title := tr(l, "admin_inline_"+name, humanize(in.rel.Name)); {
		case in.min > 0 && count < in.min:
			errs[""] = l.T("admin_inline_min", "Name", title, "Count", in.min)
		case count > in.max:
			errs[""] = l.T("admin_inline_max", "Name", title, "Count", in.max)
		}
	}
	return out, errs, nil
}

// rowChanged compares a posted row with obj's values as the form renders
// them (Django's has_changed). onlyPosted ignores fields the post lacks
// (a read-only row posts none); otherwise a missing checkbox is unticked.
func (m *model) rowChanged(c *gin.Context, row url.Values, obj any, onlyPosted bool) bool {
	rv := reflect.ValueOf(obj).Elem()
	for _, col := range m.editable() {
		if col.field == nil || (onlyPosted && !row.Has(col.name)) {
			continue
		}
		val, zero := col.field.ValueOf(c.Request.Context(), rv)
		was := inputValue(col, val, zero)
		now := row.Get(col.name)
		if col.kind == "bool" {
			if (now != "") != (was == "on") {
				return true
			}
			continue
		}
		if col.kind != "text" && col.kind != "textarea" {
			now = strings.TrimSpace(now)
		}
		if now != was && !(now == "" && zero) {
			return true
		}
	}
	return false
}

// inlinePermissions are the child model's permissions on its inline rows.
type inlinePermissions struct{ view, add, change, delete bool }

// inlinePerms checks the child's own permissions: those of its registered
// admin when it has one, else of the inline's model (Migrate creates them).
func (s *Site) inlinePerms(c *gin.Context, in *inline) inlinePermissions {
	pm := s.modelOf(in.child.typ)
	if pm == nil {
		pm = in.child
	}
	return inlinePermissions{view: s.can(c, pm, "view"), add: s.can(c, pm, "add"), change: s.can(c, pm, "change"), delete: s.can(c, pm, "delete")}
}

func (s *Site) countChildren(c *gin.Context, in *inline, parentID string) (int, error) {
	if parentID == "0" || parentID == "" {
		return 0, nil
	}
	var n int64
	err := s.db().WithContext(c.Request.Context()).Model(in.child.newOne()).
		Where(clause.Eq{Column: clause.Column{Name: in.fk.DBName}, Value: parentID}).Count(&n).Error
	return int(n), err
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
			// Through the model value: the child's GORM hooks run and what
			// they set is kept.
			err = tx.Omit(clause.Associations).Create(ch.obj).Error
		} else {
			err = tx.Model(ch.obj).Omit(clause.Associations).Select(cols).Updates(ch.obj).Error
		}
		if err != nil {
			return err
		}
	}
	return nil
}

// inlineView is an inline on the form.
type inlineView struct {
	Title       string
	DeleteLabel string
	Prefix      string
	Total       int
	Headers     []string
	Rows        []inlineRow
	Stacked     bool
	CanDelete   bool
}

type inlineRow struct {
	ID          string
	Prefix      string // "loans-0-"
	Fields      []*formField
	CanDelete   bool
	DeleteLabel string
}

func (s *Site) inlineViews(c *gin.Context, l *locale.Lang, m *model, parent any, isAdd bool, posted url.Values, errs fieldErrors) ([]inlineView, error) {
	var out []inlineView
	for i := range m.inlines {
		in := &m.inlines[i]
		perm := s.inlinePerms(c, in)
		if !perm.view && !perm.add && !perm.change && !perm.delete {
			continue // Django hides an inline the user may not see
		}
		name := strings.ToLower(in.rel.Name)
		v := inlineView{Title: tr(l, "admin_inline_"+name, humanize(in.rel.Name)), Prefix: name, DeleteLabel: l.T("admin_delete"),
			Stacked: in.stacked, CanDelete: perm.delete}
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
		n := inlineRowCount(in, rv.Len(), perm.add, posted, name)
		for r := range n {
			prefix := fmt.Sprintf("%s-%d-", name, r)
			var obj reflect.Value
			row := inlineRow{Prefix: prefix, CanDelete: perm.delete, DeleteLabel: v.DeleteLabel}
			readOnly := false
			if r < rv.Len() {
				obj = rv.Index(r)
				row.ID = in.child.idOf(c, obj.Addr().Interface())
				readOnly = !perm.change
			} else {
				obj = reflect.ValueOf(in.child.initial()).Elem()
			}
			var rowPost url.Values
			if posted != nil && !readOnly {
				rowPost = prefixed(posted, prefix)
			}
			for _, col := range in.child.editable() {
				f, err := s.formFieldOf(c, l, in.child, col, obj, rowPost, readOnly)
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

// inlineRowCount is how many rows the form shows: the existing children,
// then blank rows (Extra, at least up to Min, never past Max) when the
// user may add, or as many as were posted when the form comes back.
func inlineRowCount(in *inline, existing int, canAdd bool, posted url.Values, name string) int {
	n := existing
	if canAdd {
		n = min(max(existing+in.extra, in.min), max(in.max, existing))
		if posted != nil {
			if t, err := strconv.Atoi(posted.Get(name + "-TOTAL_FORMS")); err == nil && t > n {
				n = min(t, max(in.max, existing))
			}
		}
	}
	return n
}
