package admin

import (
	"fmt"
	"reflect"
	"regexp"
	"slices"
	"strings"
	"time"

	"gorm.io/gorm/schema"
)

// column is one database column of a model, as the admin sees it.
type column struct {
	field    *schema.Field
	name     string // database column name: form field and query key
	label    string
	kind     string // text textarea int float decimal bool date datetime choice fk m2m
	secret   bool
	required bool
	unique   bool
	readOnly bool
	size     int
	scale    int
	choices  []Choice
	rel      *schema.Relationship // belongs-to of an fk column, or the m2m relation
	auto     bool                 // autocomplete widget for an fk
	min, max *float64             // from a simple `check:` tag
}

// secretName matches columns that may never be listed, searched, filtered,
// sorted or shown: passwords, hashes, keys, tokens.
var secretName = regexp.MustCompile(`(?i)(password|passwd|secret|token|hash|sealed|private|api_?key|_key$|^key$)`)

func (m *model) prepare() error {
	m.cols = map[string]*column{}
	for _, f := range m.schema.Fields {
		if f.DBName == "" || f.IgnoreMigration {
			continue
		}
		c := &column{field: f, name: f.DBName, label: humanize(f.Name), size: f.Size, scale: f.Scale,
			unique: f.Unique, secret: secretName.MatchString(f.DBName) || f.TagSettings["ADMIN"] == "secret" || f.FieldType == reflect.TypeOf([]byte(nil))}
		c.kind = kindOf(f)
		c.required = f.NotNull && c.kind != "bool" && !f.HasDefaultValue && !f.PrimaryKey
		if ch, ok := m.opts.choices[f.DBName]; ok {
			c.kind, c.choices = "choice", ch
		}
		m.colOrder = append(m.colOrder, c.name)
		m.cols[c.name] = c
	}
	for _, rel := range m.schema.Relationships.BelongsTo {
		for _, ref := range rel.References {
			if c := m.cols[ref.ForeignKey.DBName]; c != nil && c.kind != "choice" {
				c.kind, c.rel = "fk", rel
				c.label = humanize(rel.Name)
				c.auto = slices.Contains(m.opts.autocomplete, c.name)
			}
		}
	}
	for _, rel := range m.schema.Relationships.Many2Many {
		name := strings.ToLower(rel.Name)
		c := &column{name: name, label: humanize(rel.Name), kind: "m2m", rel: rel}
		m.cols[name] = c
		m.colOrder = append(m.colOrder, name)
	}
	for _, n := range m.opts.readOnly {
		if c := m.cols[n]; c != nil {
			c.readOnly = true
		}
	}
	if m.schema.PrioritizedPrimaryField == nil {
		return fmt.Errorf("no primary key")
	}
	m.pk = m.schema.PrioritizedPrimaryField
	if err := m.resolveList(); err != nil {
		return err
	}
	if err := m.resolveForm(); err != nil {
		return err
	}
	m.resolveUnique()
	m.resolveChecks()
	if err := m.resolveInlines(); err != nil {
		return err
	}
	return m.resolveFilters()
}

func kindOf(f *schema.Field) string {
	dt := strings.ToLower(string(f.DataType))
	switch {
	case f.GORMDataType == schema.Bool:
		return "bool"
	case f.GORMDataType == schema.Int || f.GORMDataType == schema.Uint:
		return "int"
	case strings.HasPrefix(dt, "decimal") || strings.HasPrefix(dt, "numeric"):
		return "decimal"
	case f.GORMDataType == schema.Float:
		return "float"
	case dt == "date":
		return "date"
	case f.GORMDataType == schema.Time || f.FieldType == reflect.TypeOf(time.Time{}) || f.FieldType == reflect.TypeOf(&time.Time{}):
		return "datetime"
	case dt == "text" || f.Size > 1000:
		return "textarea"
	}
	return "text"
}

// listable reports whether name may appear in lists, filters, search or order.
func (m *model) listable(name string) error {
	c, ok := m.cols[name]
	if !ok {
		return fmt.Errorf("unknown column %q", name)
	}
	if c.secret {
		return fmt.Errorf("column %q holds secrets and can never be listed, searched, filtered or sorted", name)
	}
	return nil
}

func (m *model) resolveList() error {
	if len(m.opts.listDisplay) == 0 {
		m.opts.listDisplay = []string{m.pk.DBName}
	}
	for _, n := range m.opts.listDisplay {
		if _, ok := m.computed[n]; ok {
			continue
		}
		if err := m.listable(n); err != nil {
			return fmt.Errorf("ListDisplay: %w", err)
		}
	}
	if len(m.opts.listLinks) == 0 {
		m.opts.listLinks = m.opts.listDisplay[:1]
	}
	if len(m.opts.sortable) == 0 {
		for _, n := range m.opts.listDisplay {
			if c, ok := m.cols[n]; ok && c.kind != "m2m" {
				m.opts.sortable = append(m.opts.sortable, n)
			}
		}
	}
	for _, n := range m.opts.sortable {
		if err := m.listable(n); err != nil {
			return fmt.Errorf("Sortable: %w", err)
		}
	}
	for _, o := range m.opts.ordering {
		if !slices.Contains(m.opts.sortable, strings.TrimPrefix(o, "-")) && m.listable(strings.TrimPrefix(o, "-")) != nil {
			return fmt.Errorf("Ordering: %q is not a column", o)
		}
	}
	if len(m.opts.ordering) == 0 {
		m.opts.ordering = []string{"-" + m.pk.DBName}
	}
	for _, s := range m.opts.search {
		if _, err := m.searchColumn(s); err != nil {
			return fmt.Errorf("SearchFields: %w", err)
		}
	}
	if m.opts.perPage <= 0 {
		m.opts.perPage = 100
	}
	if m.opts.maxShowAll <= 0 {
		m.opts.maxShowAll = 200
	}
	if m.opts.emptyValue == "" {
		m.opts.emptyValue = "-"
	}
	return nil
}

// searchTarget is a searchable column of the model's own table, or of a
// belongs-to relation's table (searched through a subquery on its key).
type searchTarget struct {
	table  string // the table holding column
	column string
	// For a relation: the model's foreign key column and the related
	// table's referenced column; empty for the model's own columns.
	fk, relKey string
	rel        *schema.Relationship
}

func (m *model) searchColumn(s string) (searchTarget, error) {
	rel, col, joined := strings.Cut(s, ".")
	if !joined {
		if err := m.listable(s); err != nil {
			return searchTarget{}, err
		}
		return searchTarget{table: m.schema.Table, column: s}, nil
	}
	for _, r := range m.schema.Relationships.BelongsTo {
		if strings.EqualFold(r.Name, rel) {
			f := r.FieldSchema.LookUpField(col)
			if f == nil || secretName.MatchString(col) {
				return searchTarget{}, fmt.Errorf("%q: no searchable column %q on %s", s, col, r.Name)
			}
			if len(r.References) != 1 {
				return searchTarget{}, fmt.Errorf("%q: %s has a composite key", s, r.Name)
			}
			return searchTarget{table: r.FieldSchema.Table, column: f.DBName,
				fk: r.References[0].ForeignKey.DBName, relKey: r.References[0].PrimaryKey.DBName, rel: r}, nil
		}
	}
	return searchTarget{}, fmt.Errorf("%q: %q is not a belongs-to relation", s, rel)
}

func (m *model) resolveForm() error {
	names := m.opts.fields
	for _, fs := range m.opts.fieldsets {
		names = append(names, fs.Fields...)
	}
	if len(names) == 0 {
		for _, n := range m.colOrder {
			c := m.cols[n]
			if c.field != nil && (c.field.PrimaryKey || c.field.AutoCreateTime != 0 || c.field.AutoUpdateTime != 0 || c.field.Name == "DeletedAt") {
				continue
			}
			names = append(names, n)
		}
	}
	for _, n := range names {
		c, ok := m.cols[n]
		if !ok {
			return fmt.Errorf("Fields: unknown column %q", n)
		}
		if slices.Contains(m.opts.exclude, n) || c.secret {
			continue
		}
		m.formCols = append(m.formCols, n)
	}
	if len(m.opts.fieldsets) == 0 {
		m.opts.fieldsets = []Fieldset{{Fields: m.formCols}}
	}
	return nil
}

// editable are the columns a post may set: declared, not read-only, not secret.
func (m *model) editable() []*column {
	var out []*column
	for _, n := range m.formCols {
		if c := m.cols[n]; !c.readOnly && !m.opts.readOnlyModel {
			out = append(out, c)
		}
	}
	return out
}
