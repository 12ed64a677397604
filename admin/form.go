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
	"unicode/utf8"

	"github.com/gin-gonic/gin"
	"gorm.io/gorm"
	"gorm.io/gorm/clause"

	"github.com/gatehouse/gatehouse/auth"
	"github.com/gatehouse/gatehouse/internal/locale"
	"github.com/gatehouse/gatehouse/internal/render"
)

// formField is one input of a change form.
type formField struct {
	Name, Label, Kind string
	Value             string   // the input's value
	Values            []string // selected ids of a many-to-many
	Options           []relatedRow
	Required          bool
	ReadOnly          bool
	Error             string
	AutoURL           string // autocomplete endpoint of a large foreign key
	Display           string // read-only text
	MaxLength         int    // a text column's `size`
	Min, Max          string // a number column's simple `check:` limits
}

type fieldsetView struct {
	Title  string
	Fields []*formField
}

// formData is the add/change page's data.
type formData struct {
	Model, ModelPlural string
	ListURL, Action    string
	IsAdd              bool
	Object             string
	Fieldsets          []fieldsetView
	Errors             []string
	HistoryURL         string
	DeleteURL          string
	CanSave            bool
	Inlines            []inlineView
	Version            string // the row as loaded (optimistic concurrency)
}

func (s *Site) addForm(c *gin.Context, m *model) {
	obj := m.initial()
	s.renderForm(c, m, obj, true, nil, nil, http.StatusOK)
}

func (s *Site) changeForm(c *gin.Context, m *model, obj any) {
	s.renderForm(c, m, obj, false, nil, nil, http.StatusOK)
}

func (s *Site) addPost(c *gin.Context, m *model) { s.save(c, m, m.newOne(), true) }

func (s *Site) changePost(c *gin.Context, m *model, obj any) { s.save(c, m, obj, false) }

// fieldErrors maps a column to its translated error; key "" is the form's.
type fieldErrors map[string]string

func (s *Site) save(c *gin.Context, m *model, obj any, created bool) {
	l := locale.From(c)
	form := c.Request.PostForm
	m2m, changed, errs := m.bind(c, l, obj, form)
	if len(errs) == 0 && m.hooks.validate != nil {
		for k, v := range m.hooks.validate(c, obj) {
			errs[k] = v
		}
	}
	if len(errs) == 0 {
		var err error
		if errs, err = m.checkUnique(c, l, obj, created); err != nil {
			s.serverError(c, err)
			return
		}
	}
	var inl []inlineChange
	if len(errs) == 0 {
		var ierrs fieldErrors
		var err error
		if inl, ierrs, err = m.bindInlines(c, l, obj, form); err != nil {
			s.inlineRefused(c, err)
			return
		}
		for k, v := range ierrs {
			errs[k] = v
		}
	}
	if len(errs) > 0 {
		// 200 with the form again: htmx swaps 2xx, so errors show in place.
		s.renderForm(c, m, obj, created, form, errs, http.StatusOK)
		return
	}
	ch := &change{obj: obj, created: created, version: form.Get(versionField), m2m: m2m, changed: changed, inlines: inl}
	err := s.db().WithContext(c.Request.Context()).Transaction(func(tx *gorm.DB) error { return s.commit(c, l, m, tx, ch) })
	if err != nil {
		s.saveFailed(c, l, m, obj, created, err)
		return
	}
	if m.hooks.afterSave != nil {
		m.hooks.afterSave(c, obj, created)
	}
	msg := "admin_changed"
	if created {
		msg = "admin_added"
	}
	id := m.idOf(c, obj)
	auth.Flash(c, l.T(msg, "Name", tr(l, m.verbose, m.verbose), "Object", reprOf(obj, m.verbose, id)))
	switch {
	case form.Has("_continue"):
		render.Redirect(c, m.url(id+"/change/"))
	case form.Has("_addanother"):
		render.Redirect(c, m.url("add/"))
	default:
		render.Redirect(c, m.url(""))
	}
}

// change is one save: the bound object, its links and inline rows.
type change struct {
	obj     any
	created bool
	version string // the posted _version ("" skips the check)
	m2m     map[string][]any
	changed []string // labels of the changed fields, for the history
	inlines []inlineChange
}

// commit writes ch in tx: on a change, lock the row and refuse a stale
// form first; then the hooks, the row, its links and inline rows, and the
// history entry — all or nothing.
func (s *Site) commit(c *gin.Context, l *locale.Lang, m *model, tx *gorm.DB, ch *change) error {
	if !ch.created {
		fresh, err := m.lockFresh(c, tx, ch.obj)
		if err != nil {
			return err
		}
		if err := m.checkVersion(c, l, ch.version, fresh); err != nil {
			return err
		}
		m.refresh(c, ch.obj, fresh)
	}
	if m.hooks.beforeSave != nil {
		if err := m.hooks.beforeSave(c, ch.obj, ch.created); err != nil {
			return &hookError{err}
		}
	}
	if err := m.write(tx, ch.obj, ch.created, ch.m2m); err != nil {
		return err
	}
	if err := m.writeInlines(tx, ch.obj, ch.inlines); err != nil {
		return err
	}
	action, changed := actionChange, ch.changed
	if ch.created {
		action, changed = actionAddition, nil
	}
	for _, ic := range ch.inlines {
		changed = append(changed, ic.summary)
	}
	if !ch.created && len(changed) == 0 {
		return nil // nothing changed: nothing to record
	}
	id := m.idOf(c, ch.obj)
	return s.logAction(tx, c, m, id, reprOf(ch.obj, m.verbose, id), action, changed)
}

// saveFailed answers a write that the transaction refused: a hook's error,
// a conflict with someone else's change or a unique clash found by the
// database re-render the form with the user's input kept; a vanished
// object is 404; anything else is a server error.
func (s *Site) saveFailed(c *gin.Context, l *locale.Lang, m *model, obj any, created bool, err error) {
	form := c.Request.PostForm
	var he *hookError
	var ce *conflictError
	var errs fieldErrors
	switch {
	case errors.As(err, &he):
		errs = fieldErrors{"": he.err.Error()}
	case errors.As(err, &ce):
		msg := l.T("admin_conflict_unknown")
		if len(ce.fields) > 0 {
			msg = l.T("admin_conflict", "Fields", strings.Join(ce.fields, ", "))
		}
		errs = fieldErrors{"": msg}
		// Saving again, after review, overwrites the newer row on purpose.
		form = cloneValues(form)
		form.Set(versionField, ce.version)
	case errors.Is(err, errGone):
		s.auth.Fail(c, http.StatusNotFound, "admin_object_missing")
		return
	case isUniqueViolation(err):
		errs = m.uniqueRaceErrors(c, l, obj, created)
	case isCheckViolation(err):
		errs = fieldErrors{"": l.T("admin_check_failed")}
	default:
		s.serverError(c, err)
		return
	}
	if created {
		// The rolled-back insert may have set the key: the form is still an add.
		m.pk.Set(c.Request.Context(), reflect.ValueOf(obj).Elem(), reflect.Zero(m.pk.FieldType).Interface())
	}
	s.renderForm(c, m, obj, created, form, errs, http.StatusOK)
}

func cloneValues(v url.Values) url.Values {
	out := url.Values{}
	for k, vs := range v {
		out[k] = append([]string(nil), vs...)
	}
	return out
}

type hookError struct{ err error }

func (e *hookError) Error() string { return e.err.Error() }

// write saves obj through the model value, as Django's Model.save: the
// model's GORM hooks (BeforeSave, BeforeCreate, AfterUpdate, ...) run and
// what they set is written. An update writes every column; the ones the
// form does not edit were just refreshed from the locked row. Then it
// replaces many-to-many links.
func (m *model) write(tx *gorm.DB, obj any, created bool, m2m map[string][]any) error {
	var err error
	if created {
		zeros := m.zeroDefaults(tx, obj)
		if err = tx.Omit(clause.Associations).Create(obj).Error; err == nil && len(zeros) > 0 {
			// GORM inserted the column default for these zero values (and
			// copied it into obj): put the zeros back.
			err = tx.Model(obj).UpdateColumns(zeros).Error
			for name, v := range zeros {
				if err == nil {
					err = m.cols[name].field.Set(tx.Statement.Context, reflect.ValueOf(obj).Elem(), v)
				}
			}
		}
	} else {
		err = tx.Model(obj).Select("*").Omit(clause.Associations, m.pk.Name).Updates(obj).Error
	}
	if err != nil {
		return err
	}
	for name, rows := range m2m {
		if err := tx.Model(obj).Omit(m.cols[name].rel.Name + ".*").Association(m.cols[name].rel.Name).Replace(rows...); err != nil {
			return err
		}
	}
	return nil
}

// zeroDefaults lists editable columns whose value is zero while the column
// has a default: GORM would insert the default instead (an unticked box on
// a default-true column).
func (m *model) zeroDefaults(tx *gorm.DB, obj any) map[string]any {
	rv := reflect.ValueOf(obj).Elem()
	zeros := map[string]any{}
	for _, c := range m.editable() {
		if c.field == nil || !c.field.HasDefaultValue {
			continue
		}
		if v, zero := c.field.ValueOf(tx.Statement.Context, rv); zero {
			zeros[c.name] = v
		}
	}
	return zeros
}

func (m *model) idOf(c *gin.Context, obj any) string {
	id, _ := m.pk.ValueOf(c.Request.Context(), reflect.ValueOf(obj).Elem())
	return fmt.Sprint(id)
}

// bind sets the declared, editable columns of obj from form. Undeclared
// and read-only fields in the post are ignored. It returns the related
// rows of many-to-many fields, the labels of changed fields and errors.
func (m *model) bind(c *gin.Context, l *locale.Lang, obj any, form url.Values) (map[string][]any, []string, fieldErrors) {
	ctx := c.Request.Context()
	rv := reflect.ValueOf(obj).Elem()
	errs := fieldErrors{}
	m2m := map[string][]any{}
	var changed []string
	for _, col := range m.editable() {
		raw := form.Get(col.name)
		if col.kind == "m2m" {
			rows, err := m.site.loadRelated(c, col, form[col.name])
			if err != "" {
				errs[col.name] = l.T(err)
				continue
			}
			hidden, herr := m.hiddenLinks(c, col, obj)
			if herr != nil {
				errs[col.name] = l.T("admin_bad_choice")
				continue
			}
			m2m[col.name] = append(rows, hidden...)
			continue
		}
		val, msg := m.parseValue(c, col, raw, form.Has(col.name))
		if msg != "" {
			errs[col.name] = l.T(msg, "Max", col.size, "Limit", col.limitText(msg))
			continue
		}
		fv := col.field.ReflectValueOf(ctx, rv)
		before := fmt.Sprint(fv.Interface())
		assign(fv, val)
		if fmt.Sprint(fv.Interface()) != before {
			changed = append(changed, m.label(l, col.name))
		}
	}
	return m2m, changed, errs
}

// parseValue parses one posted value by column kind; the second result is
// a message id when it does not parse or is missing.
func (m *model) parseValue(c *gin.Context, col *column, raw string, present bool) (any, string) {
	if col.kind == "bool" {
		return raw == "on" || raw == "1" || raw == "true", ""
	}
	if col.kind != "text" && col.kind != "textarea" {
		raw = strings.TrimSpace(raw)
	}
	if raw == "" || (col.kind != "text" && col.kind != "textarea" && !present) {
		if col.required {
			return nil, "admin_required"
		}
		return nil, ""
	}
	switch col.kind {
	case "text", "textarea":
		if strings.TrimSpace(raw) == "" && col.required {
			return nil, "admin_required"
		}
		if col.size > 0 && utf8.RuneCountInString(raw) > col.size {
			return nil, "admin_too_long"
		}
		return raw, ""
	case "int":
		n, err := strconv.ParseInt(raw, 10, 64)
		if err != nil {
			return nil, "admin_not_integer"
		}
		if msg, _ := col.outOfRange(float64(n)); msg != "" {
			return nil, msg
		}
		return n, ""
	case "float", "decimal":
		f, err := strconv.ParseFloat(raw, 64)
		if err != nil || strings.ContainsAny(raw, "eEnN") {
			return nil, "admin_not_number"
		}
		if col.kind == "decimal" && col.scale > 0 {
			if _, frac, ok := strings.Cut(raw, "."); ok && len(frac) > col.scale {
				return nil, "admin_too_many_decimals"
			}
		}
		if msg, _ := col.outOfRange(f); msg != "" {
			return nil, msg
		}
		return f, ""
	case "date":
		t, err := time.Parse(time.DateOnly, raw)
		if err != nil {
			return nil, "admin_not_date"
		}
		return t, ""
	case "datetime":
		t, err := time.Parse("2006-01-02T15:04", raw)
		if err != nil {
			return nil, "admin_not_datetime"
		}
		return t, ""
	case "choice":
		if !slices.ContainsFunc(col.choices, func(ch Choice) bool { return ch.Value == raw }) {
			return nil, "admin_bad_choice"
		}
		return raw, ""
	case "fk":
		id, err := parseID(raw)
		if err != nil {
			return nil, "admin_bad_choice"
		}
		// A row outside the related model's scope, or of a model the user
		// may not view, is treated as one that does not exist.
		var n int64
		// Through the related model (its admin's scope, soft deletes).
		rs := col.rel.FieldSchema
		if err := m.site.visibleOrNone(c, rs).
			Where(clause.Eq{Column: clause.Column{Table: rs.Table, Name: rs.PrioritizedPrimaryField.DBName}, Value: id}).Count(&n).Error; err != nil || n == 0 {
			return nil, "admin_bad_choice"
		}
		return id, ""
	}
	return nil, "admin_bad_choice"
}

// assign stores val (nil for empty) into a field, converting numbers and
// allocating pointers.
func assign(fv reflect.Value, val any) {
	if val == nil {
		fv.Set(reflect.Zero(fv.Type()))
		return
	}
	t := fv.Type()
	target := t
	if t.Kind() == reflect.Pointer {
		target = t.Elem()
	}
	v := reflect.ValueOf(val)
	if !v.Type().AssignableTo(target) {
		v = v.Convert(target)
	}
	if t.Kind() == reflect.Pointer {
		p := reflect.New(target)
		p.Elem().Set(v)
		fv.Set(p)
		return
	}
	fv.Set(v)
}

// loadRelated loads the rows of a many-to-many post; any unknown id, or
// one the user may not see (visibleRows), is an error.
func (s *Site) loadRelated(c *gin.Context, col *column, raw []string) ([]any, string) {
	rs := col.rel.FieldSchema
	var ids []uint
	for _, r := range raw {
		id, err := parseID(r)
		if err != nil {
			return nil, "admin_bad_choice"
		}
		ids = append(ids, id)
	}
	slice := reflect.New(reflect.SliceOf(rs.ModelType))
	if len(ids) > 0 {
		if err := s.visibleOrNone(c, rs).Select("?.*", clause.Table{Name: rs.Table}).Where(clause.IN{Column: clause.Column{Table: rs.Table, Name: rs.PrioritizedPrimaryField.DBName}, Values: toAny(ids)}).Find(slice.Interface()).Error; err != nil {
			return nil, "admin_bad_choice"
		}
	}
	if slice.Elem().Len() != len(slices.Compact(slices.Sorted(slices.Values(ids)))) {
		return nil, "admin_bad_choice"
	}
	out := make([]any, slice.Elem().Len())
	for i := range out {
		out[i] = slice.Elem().Index(i).Addr().Interface()
	}
	return out, ""
}

func toAny(ids []uint) []any {
	out := make([]any, len(ids))
	for i, id := range ids {
		out[i] = id
	}
	return out
}

func (s *Site) renderForm(c *gin.Context, m *model, obj any, isAdd bool, posted url.Values, errs fieldErrors, status int) {
	l := locale.From(c)
	verbose := tr(l, m.verbose, m.verbose)
	d := &formData{Model: verbose, ModelPlural: tr(l, m.plural, m.plural), ListURL: m.url(""), IsAdd: isAdd}
	d.CanSave = (isAdd && s.can(c, m, "add")) || (!isAdd && s.can(c, m, "change"))
	if isAdd {
		d.Action = m.url("add/")
	} else {
		id := m.idOf(c, obj)
		d.Object = reprOf(obj, m.verbose, id)
		d.Action = m.url(id + "/change/")
		if posted != nil {
			d.Version = posted.Get(versionField) // the form's base, not the input
		} else {
			d.Version = m.versionOf(c, obj)
		}
		d.HistoryURL = m.url(id + "/history/")
		if s.can(c, m, "delete") {
			d.DeleteURL = m.url(id + "/delete/")
		}
	}
	rv := reflect.ValueOf(obj).Elem()
	for _, fs := range m.opts.fieldsets {
		fsv := fieldsetView{Title: tr(l, fs.Title, fs.Title)}
		for _, name := range fs.Fields {
			if !slices.Contains(m.formCols, name) {
				continue
			}
			f, err := s.formFieldOf(c, l, m, m.cols[name], rv, posted, !d.CanSave)
			if err != nil {
				s.serverError(c, err)
				return
			}
			f.Error = errs[name]
			fsv.Fields = append(fsv.Fields, f)
		}
		d.Fieldsets = append(d.Fieldsets, fsv)
	}
	if e := errs[""]; e != "" {
		d.Errors = append(d.Errors, e)
	}
	if len(errs) > 0 {
		d.Errors = append([]string{l.T("admin_fix_errors")}, d.Errors...)
	}
	var err error
	if d.Inlines, err = s.inlineViews(c, l, m, obj, isAdd, posted, errs); err != nil {
		s.serverError(c, err)
		return
	}
	title := l.T("admin_add_title", "Name", verbose)
	if !isAdd {
		title = l.T("admin_change_title", "Name", verbose)
	}
	s.auth.HTML(c, status, "admin/change_form.html", "change-form", s.auth.View(c, title, d))
}

func (s *Site) formFieldOf(c *gin.Context, l *locale.Lang, m *model, col *column, rv reflect.Value, posted url.Values, readOnly bool) (*formField, error) {
	ctx := c.Request.Context()
	f := &formField{Name: col.name, Label: m.label(l, col.name), Kind: col.kind, Required: col.required, ReadOnly: col.readOnly || readOnly}
	if col.kind == "text" || col.kind == "textarea" {
		f.MaxLength = col.size
	}
	if col.min != nil {
		f.Min = col.limitText("admin_min_value")
	}
	if col.max != nil {
		f.Max = col.limitText("admin_max_value")
	}
	switch col.kind {
	case "m2m":
		rows, err := s.related(c, col, "", 500)
		if err != nil {
			return nil, err
		}
		f.Options = rows
		if posted != nil {
			f.Values = posted[col.name]
		} else {
			rel := rv.FieldByName(col.rel.Name)
			if rel.Len() == 0 && rv.Addr().Interface() != nil {
				// Not preloaded: load the current links.
				tmp := reflect.New(rv.Type())
				tmp.Elem().Set(rv)
				_ = s.db().WithContext(ctx).Model(tmp.Interface()).Association(col.rel.Name).Find(tmp.Elem().FieldByName(col.rel.Name).Addr().Interface())
				rel = tmp.Elem().FieldByName(col.rel.Name)
			}
			for i := 0; i < rel.Len(); i++ {
				e := rel.Index(i)
				if e.Kind() == reflect.Pointer {
					e = e.Elem()
				}
				id, _ := col.rel.FieldSchema.PrioritizedPrimaryField.ValueOf(ctx, e)
				f.Values = append(f.Values, fmt.Sprint(id))
			}
		}
		if f.ReadOnly {
			var names []string
			for _, o := range f.Options {
				if slices.Contains(f.Values, o.Value) {
					names = append(names, o.Label)
				}
			}
			f.Display = strings.Join(names, ", ")
		}
		return f, nil
	}
	if posted != nil && !col.readOnly {
		f.Value = posted.Get(col.name)
	} else {
		val, zero := col.field.ValueOf(ctx, rv)
		f.Value = inputValue(col, val, zero)
	}
	switch col.kind {
	case "choice":
		for _, ch := range col.choices {
			f.Options = append(f.Options, relatedRow{ch.Value, tr(l, ch.Label, ch.Label)})
		}
	case "fk":
		if col.auto {
			f.AutoURL = m.url("autocomplete/?field=" + col.name)
			// Without JavaScript the search box does nothing: the select
			// still offers the first rows, plus the current choice.
			rows, err := s.related(c, col, "", 50)
			if err != nil {
				return nil, err
			}
			if f.Value != "" && !slices.ContainsFunc(rows, func(r relatedRow) bool { return r.Value == f.Value }) {
				id, _ := parseID(f.Value)
				cur, err := s.relatedByID(c, col, id)
				if err != nil {
					return nil, err
				}
				rows = append(cur, rows...)
			}
			f.Options = rows
		} else {
			rows, err := s.related(c, col, "", 1000)
			if err != nil {
				return nil, err
			}
			f.Options = rows
		}
		f.Options = keepCurrent(f.Options, col, f.Value)
	}
	if f.ReadOnly {
		f.Display = f.Value
		for _, o := range f.Options {
			if o.Value == f.Value {
				f.Display = o.Label
			}
		}
		if col.kind == "bool" {
			f.Display = l.T("admin_no")
			if f.Value == "on" {
				f.Display = l.T("admin_yes")
			}
		}
	}
	return f, nil
}

func (s *Site) relatedByID(c *gin.Context, col *column, id uint) ([]relatedRow, error) {
	rs := col.rel.FieldSchema
	obj := reflect.New(rs.ModelType)
	res := s.visibleOrNone(c, rs).Select("?.*", clause.Table{Name: rs.Table}).Where(clause.Eq{Column: clause.Column{Table: rs.Table, Name: rs.PrioritizedPrimaryField.DBName}, Value: id}).Limit(1).Find(obj.Interface())
	if res.Error != nil || res.RowsAffected == 0 {
		return nil, res.Error
	}
	return []relatedRow{{Value: fmt.Sprint(id), Label: reprOf(obj.Interface(), rs.Name, id)}}, nil
}

// inputValue renders a stored value as an input's value.
func inputValue(col *column, val any, zero bool) string {
	rv := reflect.ValueOf(val)
	if rv.Kind() == reflect.Pointer {
		if rv.IsNil() {
			return ""
		}
		val = rv.Elem().Interface()
	}
	switch col.kind {
	case "bool":
		if b, _ := val.(bool); b {
			return "on"
		}
		return ""
	case "date":
		if t, ok := val.(time.Time); ok && !t.IsZero() {
			return t.Format(time.DateOnly)
		}
		return ""
	case "datetime":
		if t, ok := val.(time.Time); ok && !t.IsZero() {
			return t.UTC().Format("2006-01-02T15:04")
		}
		return ""
	case "fk":
		if zero {
			return ""
		}
	case "decimal":
		if f, ok := toFloat(val); ok {
			return strconv.FormatFloat(f, 'f', max(col.scale, 2), 64)
		}
	}
	return fmt.Sprint(val)
}
