package admin

import (
	"fmt"
	"reflect"
	"strings"
	"sync"

	"github.com/gin-gonic/gin"
	"gorm.io/gorm"
	"gorm.io/gorm/schema"

	"github.com/gatehouse/gatehouse/auth"
)

// ModelAdmin configures the admin pages of model T, Django-style. Column
// names are database column names ("author_id", "published"); the zero
// value of every option has a sensible default.
//
// The form follows T's GORM tags: `not null` is required, `size` is the
// maximum length, `default` the initial value, a simple `check` a range;
// `unique`, `uniqueIndex` and unique indexes are checked before the write
// (Django's unique and unique_together). Saves go through the model value,
// so T's GORM hooks run; a change, its inline rows and its history entry
// are one transaction, and a change form saved after someone else changed
// the row is refused, naming their fields (optimistic concurrency).
type ModelAdmin[T any] struct {
	// App groups models on the index ("library"); Model is the URL name
	// (default: the type name in lower case).
	App, Model string
	// Verbose and VerbosePlural are message ids (or plain English when the
	// catalog lacks them) for the model's names.
	Verbose, VerbosePlural string

	// ListDisplay are the changelist columns: column names or Computed names.
	ListDisplay []string
	// Computed columns, by name.
	Computed map[string]Computed[T]
	// ListLinks are the columns that link to the change page (default: the first).
	ListLinks []string
	// EmptyValue is shown for empty values (default "-").
	EmptyValue string
	// SearchFields are searched with a case-insensitive contains; a
	// belongs-to relation's column is written "author.name".
	SearchFields []string
	// ListFilter are the filter sidebar's filters.
	ListFilter []Filter
	// Ordering is the default order, e.g. {"-published", "title"}.
	Ordering []string
	// Sortable are the columns a user may sort by (default: the
	// ListDisplay columns that are real columns).
	Sortable []string
	// PerPage (default 100) and MaxShowAll (default 200): "show all" is
	// offered while the result count is at most MaxShowAll.
	PerPage, MaxShowAll int
	// Count says how the changelist counts results (default CountExact).
	Count CountMode

	// Fields are the form's fields in order (default: every editable
	// column); Fieldsets group them instead; Exclude drops some.
	Fields    []string
	Fieldsets []Fieldset
	Exclude   []string
	// ReadOnly fields are shown, never bound from a post.
	ReadOnly []string
	// Textarea fields get a multi-line input.
	Textarea []string
	// Choices limit a column to fixed values (a select).
	Choices map[string][]Choice
	// Autocomplete foreign keys get a search widget instead of a full
	// select (for large related tables).
	Autocomplete []string
	// Inlines edit has-many children on the parent's form.
	Inlines []Inline

	// Actions for selected rows; "delete_selected" is built in.
	Actions []Action[T]

	// Scope narrows every query of this admin (multi-tenant sites).
	Scope func(c *gin.Context, db *gorm.DB) *gorm.DB
	// Validate adds field errors before saving (key "" for the form).
	Validate func(c *gin.Context, obj *T) map[string]string
	// BeforeSave, AfterSave, BeforeDelete, AfterDelete run around writes;
	// an error from a Before hook stops the write and is shown.
	BeforeSave   func(c *gin.Context, obj *T, created bool) error
	AfterSave    func(c *gin.Context, obj *T, created bool)
	BeforeDelete func(c *gin.Context, obj *T) error
	AfterDelete  func(c *gin.Context, obj *T)
	// HasPermission, when set, decides each request's view, add, change
	// and delete permission after the user's own permissions allowed it.
	HasPermission func(c *gin.Context, u *auth.User, perm string) bool
	// ReadOnlyModel offers no add and no change; delete stays.
	ReadOnlyModel bool
}

// Computed is a column computed from a row.
type Computed[T any] struct {
	Label string // message id or English
	Value func(*T) string
}

// Fieldset groups form fields under a title.
type Fieldset struct {
	Title  string // message id or English; "" for none
	Fields []string
}

// Choice is one allowed value of a column.
type Choice struct {
	Value string
	Label string // message id or English
}

// Action is a bulk action on selected rows.
type Action[T any] struct {
	Name  string // form value, e.g. "mark_returned"
	Label string // message id or English
	// Perm is the permission the action needs ("change" by default).
	Perm string
	// Run gets the selected rows, already scoped and permission-checked,
	// and returns a message for the user. db is a transaction that also
	// writes the rows' history entries: an error rolls both back.
	Run func(c *gin.Context, db *gorm.DB, rows []T) (string, error)
}

// Inline edits the has-many relation Field of the parent (e.g. "Loans")
// on the parent's form, with the child's columns Fields: Django's
// InlineModelAdmin. The child model's add, change and delete permissions
// apply to its rows (view alone shows them read-only).
type Inline struct {
	Field  string
	Fields []string
	// Extra is the number of blank rows for new children (default 1),
	// Django's extra. A blank row left at its initial values is ignored.
	Extra int
	// Min and Max bound the number of children the parent keeps after a
	// save (Django's min_num and max_num; 0 means no bound). The form
	// shows at least Min rows and never offers more than Max.
	Min, Max int
	// Layout is Tabular (default: one table row per child, Django's
	// TabularInline) or Stacked (one fieldset per child, StackedInline).
	Layout InlineLayout
}

// InlineLayout is how an inline's rows are laid out.
type InlineLayout int

const (
	// Tabular shows each child as a table row (Django's TabularInline).
	Tabular InlineLayout = iota
	// Stacked shows each child as a fieldset of labelled fields, for
	// children with many or wide fields (Django's StackedInline).
	Stacked
)

// CountMode is how a changelist counts its results.
type CountMode int

const (
	// CountExact runs COUNT(*).
	CountExact CountMode = iota
	// CountEstimated uses the database's row estimate when there is no
	// search or filter, and a count capped at 1,000 otherwise ("more
	// than 1,000 results", with next and previous links past that).
	CountEstimated
	// CountNone counts nothing; pages show only "next" and "previous".
	CountNone
)

// model is what the site needs of a registered ModelAdmin, without T.
type model struct {
	site     *Site
	app      string
	name     string
	verbose  string
	plural   string
	schema   *schema.Schema
	typ      reflect.Type
	opts     options
	newOne   func() any // *T
	newSlice func() any // *[]T
	computed map[string]computedCol
	actions  []action
	hooks    hooks
	cols     map[string]*column
	colOrder []string
	formCols []string
	pk       *schema.Field
	filters  []filterSpec
	inlines  []inline
	uniques  []uniqueSet
}

type computedCol struct {
	label string
	value func(any) string
}

type action struct {
	name, label, perm string
	run               func(c *gin.Context, db *gorm.DB, rows any) (string, error)
}

type hooks struct {
	scope        func(*gin.Context, *gorm.DB) *gorm.DB
	validate     func(*gin.Context, any) map[string]string
	beforeSave   func(*gin.Context, any, bool) error
	afterSave    func(*gin.Context, any, bool)
	beforeDelete func(*gin.Context, any) error
	afterDelete  func(*gin.Context, any)
	permission   func(*gin.Context, *auth.User, string) bool
}

// options is the untyped part of ModelAdmin.
type options struct {
	listDisplay, listLinks, search, ordering, sortable []string
	filters                                            []Filter
	emptyValue                                         string
	perPage, maxShowAll                                int
	count                                              CountMode
	fields, exclude, readOnly, textarea, autocomplete  []string
	fieldsets                                          []Fieldset
	choices                                            map[string][]Choice
	inlines                                            []Inline
	readOnlyModel                                      bool
}

var schemaCache sync.Map

// Register adds model T to the site. It panics on a configuration that
// names an unknown column or exposes a secret column, so mistakes fail at
// start, not in a request.
func Register[T any](s *Site, ma ModelAdmin[T]) {
	var zero T
	sch, err := schema.Parse(&zero, &schemaCache, s.db().NamingStrategy)
	if err != nil {
		panic(fmt.Sprintf("admin: %T: %v", zero, err))
	}
	m := &model{site: s, schema: sch, typ: reflect.TypeOf(zero), app: ma.App, name: ma.Model,
		verbose: ma.Verbose, plural: ma.VerbosePlural,
		newOne: func() any { return new(T) }, newSlice: func() any { return new([]T) }}
	if m.app == "" {
		panic(fmt.Sprintf("admin: %T: App is required", zero))
	}
	if m.name == "" {
		m.name = strings.ToLower(sch.Name)
	}
	if m.verbose == "" {
		m.verbose = humanize(sch.Name)
	}
	if m.plural == "" {
		m.plural = m.verbose + "s"
	}
	m.opts = options{listDisplay: ma.ListDisplay, listLinks: ma.ListLinks, search: ma.SearchFields, ordering: ma.Ordering,
		sortable: ma.Sortable, filters: ma.ListFilter, emptyValue: ma.EmptyValue, perPage: ma.PerPage, maxShowAll: ma.MaxShowAll,
		count: ma.Count, fields: ma.Fields, exclude: ma.Exclude, readOnly: ma.ReadOnly, textarea: ma.Textarea,
		autocomplete: ma.Autocomplete, fieldsets: ma.Fieldsets, choices: ma.Choices, inlines: ma.Inlines, readOnlyModel: ma.ReadOnlyModel}
	m.computed = map[string]computedCol{}
	for name, c := range ma.Computed {
		m.computed[name] = computedCol{label: c.Label, value: func(v any) string { return c.Value(v.(*T)) }}
	}
	for _, a := range ma.Actions {
		m.actions = append(m.actions, action{name: a.Name, label: a.Label, perm: a.Perm,
			run: func(c *gin.Context, db *gorm.DB, rows any) (string, error) { return a.Run(c, db, *rows.(*[]T)) }})
	}
	m.hooks.scope = ma.Scope
	m.hooks.permission = ma.HasPermission
	if ma.Validate != nil {
		m.hooks.validate = func(c *gin.Context, v any) map[string]string { return ma.Validate(c, v.(*T)) }
	}
	if ma.BeforeSave != nil {
		m.hooks.beforeSave = func(c *gin.Context, v any, created bool) error { return ma.BeforeSave(c, v.(*T), created) }
	}
	if ma.AfterSave != nil {
		m.hooks.afterSave = func(c *gin.Context, v any, created bool) { ma.AfterSave(c, v.(*T), created) }
	}
	if ma.BeforeDelete != nil {
		m.hooks.beforeDelete = func(c *gin.Context, v any) error { return ma.BeforeDelete(c, v.(*T)) }
	}
	if ma.AfterDelete != nil {
		m.hooks.afterDelete = func(c *gin.Context, v any) { ma.AfterDelete(c, v.(*T)) }
	}
	if err := m.prepare(); err != nil {
		panic(fmt.Sprintf("admin: %s.%s: %v", m.app, m.name, err))
	}
	s.add(m)
}

// scoped returns the model's base query for this request.
func (m *model) scoped(c *gin.Context) *gorm.DB {
	db := m.site.db().WithContext(c.Request.Context()).Model(m.newOne())
	if m.hooks.scope != nil {
		db = m.hooks.scope(c, db)
	}
	return db
}

func (m *model) key() string { return m.app + "." + m.name }

func (m *model) url(suffix string) string {
	return m.site.opts.Prefix + "/" + m.app + "/" + m.name + "/" + suffix
}

func humanize(name string) string {
	var b strings.Builder
	for i, r := range name {
		if i > 0 && r >= 'A' && r <= 'Z' {
			b.WriteByte(' ')
			r += 'a' - 'A'
		}
		b.WriteRune(r)
	}
	return b.String()
}
