package admin_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/gin-gonic/gin"
	"gorm.io/gorm"

	"github.com/gatehouse/gatehouse/admin"
	"github.com/gatehouse/gatehouse/auth"
	"github.com/gatehouse/gatehouse/auth/authtest"
	"github.com/gatehouse/gatehouse/internal/testenv"
)

// The inventory app of issue 10: suppliers, items with a unique SKU, a
// `unique` barcode and a composite unique (name, supplier), GORM hooks,
// soft deletes, column defaults and checks, and stock moves as an inline.
type Vendor struct {
	ID        uint           `gorm:"primaryKey"`
	Name      string         `gorm:"size:100;not null"`
	DeletedAt gorm.DeletedAt `gorm:"index"`
}

func (s *Vendor) String() string { return s.Name }

type Product struct {
	ID         uint    `gorm:"primaryKey"`
	Sku        string  `gorm:"size:20;not null;uniqueIndex"`
	Barcode    *string `gorm:"size:32;unique"`
	Name       string  `gorm:"size:50;not null;index:idx_item_name_supplier,unique"`
	SupplierID uint    `gorm:"not null;index:idx_item_name_supplier,unique"`
	Supplier   *Vendor `gorm:"constraint:OnDelete:RESTRICT"`
	Qty        int     `gorm:"not null;default:5;check:qty >= 0"`
	Status     string  `gorm:"size:10;not null;default:'draft';check:status <> 'gone'"`
	// Slug and Revision are kept by the model's GORM hooks, outside the form.
	Slug      string `gorm:"size:60"`
	Revision  int
	DeletedAt gorm.DeletedAt `gorm:"index"`
	Moves     []StockMove    `gorm:"foreignKey:ItemID;constraint:OnDelete:CASCADE"`
}

func (i *Product) String() string { return i.Name }

func (i *Product) BeforeSave(*gorm.DB) error {
	i.Slug = strings.ToLower(strings.ReplaceAll(i.Name, " ", "-"))
	return nil
}

func (i *Product) BeforeUpdate(*gorm.DB) error {
	i.Revision++
	return nil
}

type StockMove struct {
	ID     uint   `gorm:"primaryKey"`
	ItemID uint   `gorm:"not null;index"`
	Qty    int    `gorm:"not null"`
	Note   string `gorm:"size:50;not null"`
}

func (m *StockMove) String() string { return m.Note }

type inventoryOptions struct {
	db        testenv.DB
	translate bool // the developer's gorm.Config.TranslateError
	inline    admin.Inline
	setup     func(*gorm.DB) // callbacks that simulate races and failures
}

func newInventory(t *testing.T, o inventoryOptions) *authtest.App {
	t.Helper()
	if o.inline.Field == "" {
		o.inline = admin.Inline{Field: "Moves", Fields: []string{"qty", "note"}, Extra: 2}
	}
	return authtest.New(t, authtest.Options{DB: o.db, Mount: func(s *auth.Service, e *gin.Engine) {
		db := s.DB()
		if err := db.AutoMigrate(&Vendor{}, &Product{}, &StockMove{}); err != nil {
			t.Fatal(err)
		}
		// The README's gorm.Open(..., &gorm.Config{}) translates no errors.
		db.Config.TranslateError = o.translate
		if o.setup != nil {
			o.setup(db)
		}
		site := admin.NewSite(s, admin.Options{})
		admin.Register(site, admin.ModelAdmin[Vendor]{App: "inventory", Model: "supplier", Verbose: "Supplier", VerbosePlural: "Suppliers", ListDisplay: []string{"name"}})
		admin.Register(site, admin.ModelAdmin[Product]{App: "inventory", Model: "item", Verbose: "Item", VerbosePlural: "Items", ListDisplay: []string{"sku", "name", "qty"},
			Fields:  []string{"sku", "barcode", "name", "supplier_id", "qty", "status"},
			Inlines: []admin.Inline{o.inline},
			Actions: []admin.Action[Product]{{Name: "restock", Label: "Restock", Run: func(c *gin.Context, db *gorm.DB, rows []Product) (string, error) {
				for _, r := range rows {
					if err := db.Model(&Product{}).Where("id = ?", r.ID).Update("qty", 100).Error; err != nil {
						return "", err
					}
				}
				return "restocked", nil
			}}}})
		admin.Register(site, admin.ModelAdmin[StockMove]{App: "inventory", ListDisplay: []string{"note", "qty"}})
		if err := site.Migrate(context.Background()); err != nil {
			t.Fatal(err)
		}
		site.Mount(e)
	}})
}

// seedInventory makes two suppliers and item 1 (sku A-1, "Bolt" of supplier 1).
func seedInventory(t *testing.T, app *authtest.App) {
	t.Helper()
	for _, v := range []any{&Vendor{Name: "Acme"}, &Vendor{Name: "Globex"},
		&Product{Sku: "A-1", Name: "Bolt", SupplierID: 1, Qty: 3, Status: "live"}} {
		if err := app.DB.Create(v).Error; err != nil {
			t.Fatal(err)
		}
	}
}

func itemForm(sku, name, supplier string, extra ...string) url.Values {
	f := url.Values{"sku": {sku}, "name": {name}, "supplier_id": {supplier}, "qty": {"1"}, "status": {"live"}, "_save": {"1"}}
	for i := 0; i+1 < len(extra); i += 2 {
		f.Set(extra[i], extra[i+1])
	}
	return f
}

func countAll(t *testing.T, app *authtest.App, model any, unscoped bool) int64 {
	t.Helper()
	var n int64
	q := app.DB.Model(model)
	if unscoped {
		q = q.Unscoped()
	}
	if err := q.Count(&n).Error; err != nil {
		t.Fatal(err)
	}
	return n
}

var fieldErrorRE = regexp.MustCompile(`<p class="error" id="err_([\w-]+)" role="alert">([^<]*)</p>`)

// fieldErrors are the form's field errors by field name.
func fieldErrors(body string) map[string]string {
	out := map[string]string{}
	for _, m := range fieldErrorRE.FindAllStringSubmatch(body, -1) {
		out[m[1]] = m[2]
	}
	return out
}

func formError(body string) string {
	_, after, ok := strings.Cut(body, `<div class="errornote" role="alert">`)
	if !ok {
		return ""
	}
	before, _, _ := strings.Cut(after, "</div>")
	return before
}

// TestUniqueIsAFieldError: unique, uniqueIndex and a composite unique
// index are checked before the write, with a plain gorm.Config.
func TestUniqueIsAFieldError(t *testing.T) { forEachDB(t, testUniqueIsAFieldError) }

func testUniqueIsAFieldError(t *testing.T, d testenv.DB) {
	app := newInventory(t, inventoryOptions{db: d})
	seedInventory(t, app)
	c := superuser(t, app)
	if err := app.DB.Model(&Product{}).Where("id = 1").Update("barcode", "4006381333931").Error; err != nil {
		t.Fatal(err)
	}
	gone := &Product{Sku: "GONE-1", Name: "Gone", SupplierID: 1}
	app.DB.Create(gone)
	app.DB.Delete(gone) // soft: the unique index still holds it
	cases := []struct {
		name, path     string
		form           url.Values
		field, formErr string // where the error must be ("" none)
	}{
		{"uniqueIndex", "/admin/inventory/item/add/", itemForm("A-1", "Nut", "1"), "sku", ""},
		{"unique tag", "/admin/inventory/item/add/", itemForm("B-1", "Nut", "1", "barcode", "4006381333931"), "barcode", ""},
		{"composite unique index", "/admin/inventory/item/add/", itemForm("B-2", "Bolt", "1"), "", "Name, Supplier"},
		{"soft-deleted row still holds its value", "/admin/inventory/item/add/", itemForm("GONE-1", "Nut", "1"), "sku", ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			before := countAll(t, app, &Product{}, true)
			r := c.PostForm(tc.path, tc.form)
			if r.Status != http.StatusOK {
				t.Fatalf("want 200 with the form again, got %d %.300s", r.Status, r.Body)
			}
			errs := fieldErrors(r.Body)
			if tc.field != "" && !strings.Contains(errs[tc.field], "already exists") {
				t.Errorf("no 'already exists' error on %s: %v / %q", tc.field, errs, formError(r.Body))
			}
			if tc.formErr != "" && (!strings.Contains(formError(r.Body), "already exists") || !strings.Contains(formError(r.Body), tc.formErr)) {
				t.Errorf("want a form error naming %q, got %q %v", tc.formErr, formError(r.Body), errs)
			}
			if n := countAll(t, app, &Product{}, true); n != before {
				t.Errorf("a refused form wrote a row: %d -> %d", before, n)
			}
		})
	}
	// The object itself is not a clash; the same name with another supplier is fine.
	if r := c.PostForm("/admin/inventory/item/1/change/", itemForm("A-1", "Bolt", "1", "barcode", "4006381333931")); r.Status != http.StatusSeeOther {
		t.Fatalf("saving an item unchanged: want 303, got %d %q %v", r.Status, formError(r.Body), fieldErrors(r.Body))
	}
	if r := c.PostForm("/admin/inventory/item/add/", itemForm("B-3", "Bolt", "2")); r.Status != http.StatusSeeOther {
		t.Fatalf("same name, other supplier: want 303, got %d %q", r.Status, formError(r.Body))
	}
}

// TestUniqueRace: the row that clashes is committed between the check and
// the write (a GORM callback inserts it right after the check's query), so
// the database reports the violation: still a field error, whatever the
// gorm.Config.
func TestUniqueRace(t *testing.T) { forEachDB(t, testUniqueRace) }

func testUniqueRace(t *testing.T, d testenv.DB) {
	cases := []struct {
		name      string
		translate bool
		column    string // the check whose query triggers the insert
		insert    Product
		form      url.Values
		field     string
		formErr   string
	}{
		{"uniqueIndex, plain config", false, "sku", Product{Sku: "R-1", Name: "Other", SupplierID: 2}, itemForm("R-1", "Nut", "1"), "sku", ""},
		{"uniqueIndex, TranslateError", true, "sku", Product{Sku: "R-1", Name: "Other", SupplierID: 2}, itemForm("R-1", "Nut", "1"), "sku", ""},
		{"composite, plain config", false, "supplier_id", Product{Sku: "R-2", Name: "Nut", SupplierID: 1}, itemForm("R-3", "Nut", "1"), "", "Name, Supplier"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var armed atomic.Bool
			var inserted atomic.Int32
			var root *gorm.DB
			app := newInventory(t, inventoryOptions{db: d, translate: tc.translate, setup: func(db *gorm.DB) {
				root = db
				err := db.Callback().Query().After("gorm:query").Register("test:race", func(tx *gorm.DB) {
					sql := tx.Statement.SQL.String()
					if tx.Statement.Table == "products" && strings.Contains(strings.ToLower(sql), "count(") && strings.Contains(sql, tc.column) && armed.CompareAndSwap(true, false) {
						row := tc.insert
						if err := root.Session(&gorm.Session{NewDB: true, SkipHooks: true, Context: context.Background()}).Create(&row).Error; err != nil {
							t.Errorf("racing insert: %v", err)
						}
						inserted.Add(1)
					}
				})
				if err != nil {
					t.Fatal(err)
				}
			}})
			seedInventory(t, app)
			c := superuser(t, app)
			armed.Store(true)
			before := countAll(t, app, &Product{}, true)
			r := c.PostForm("/admin/inventory/item/add/", tc.form)
			if inserted.Load() != 1 {
				t.Fatalf("the racing insert did not run")
			}
			if r.Status != http.StatusOK {
				t.Fatalf("a unique violation reported by the database: want 200 with the form, got %d", r.Status)
			}
			if tc.field != "" && !strings.Contains(fieldErrors(r.Body)[tc.field], "already exists") {
				t.Errorf("want the error on %s, got %v %q", tc.field, fieldErrors(r.Body), formError(r.Body))
			}
			if tc.formErr != "" && !strings.Contains(formError(r.Body), tc.formErr) {
				t.Errorf("want a form error naming %q, got %q", tc.formErr, formError(r.Body))
			}
			if !strings.Contains(r.Body, `value="Nut"`) {
				t.Errorf("the user's input was not kept")
			}
			if n := countAll(t, app, &Product{}, true); n != before+1 {
				t.Errorf("want only the racing row added: %d -> %d", before, n)
			}
		})
	}
}

var versionRE = regexp.MustCompile(`name="_version" value="([^"]+)"`)

func version(t *testing.T, r *authtest.Response) string {
	t.Helper()
	m := versionRE.FindStringSubmatch(r.Body)
	if m == nil {
		t.Fatalf("the change form carries no _version: %d %.300s", r.Status, r.Body)
	}
	return m[1]
}

// TestNoLostUpdate: two people edit the same item; the second save is
// refused with the fields the first changed, and keeps their input.
func TestNoLostUpdate(t *testing.T) { forEachDB(t, testNoLostUpdate) }

func testNoLostUpdate(t *testing.T, d testenv.DB) {
	app := newInventory(t, inventoryOptions{db: d})
	seedInventory(t, app)
	ana := superuser(t, app)
	app.User("ben", true, true)
	ben := app.Client()
	ben.Enrol("ben")
	const path = "/admin/inventory/item/1/change/"
	va, vb := version(t, ana.Get(path)), version(t, ben.Get(path))
	if r := ana.PostForm(path, itemForm("A-1", "Bolt M6", "1", "qty", "3", "_version", va)); r.Status != http.StatusSeeOther {
		t.Fatalf("first save: want 303, got %d %q", r.Status, formError(r.Body))
	}
	r := ben.PostForm(path, itemForm("A-1", "Bolt", "1", "qty", "7", "_version", vb))
	if r.Status != http.StatusOK {
		t.Fatalf("stale save: want 200 with the form, got %d", r.Status)
	}
	if msg := formError(r.Body); !strings.Contains(msg, "Someone else changed Name") || strings.Contains(msg, "Qty") {
		t.Fatalf("the refusal must name the field the other changed (Name only): %q", msg)
	}
	if !strings.Contains(r.Body, `id="id_qty" name="qty" value="7"`) {
		t.Errorf("ben's input was lost")
	}
	var it Product
	app.DB.First(&it, 1)
	if it.Name != "Bolt M6" || it.Qty != 3 {
		t.Fatalf("the stale save overwrote the row: %+v", it)
	}
	// Saving the kept input again, after review, overwrites on purpose.
	if r := ben.PostForm(path, itemForm("A-1", "Bolt", "1", "qty", "7", "_version", version(t, r))); r.Status != http.StatusSeeOther {
		t.Fatalf("save after review: want 303, got %d %q", r.Status, formError(r.Body))
	}
	app.DB.First(&it, 1)
	if it.Name != "Bolt" || it.Qty != 7 {
		t.Fatalf("reviewed save not written: %+v", it)
	}
}

// TestParallelSavesOfOneForm: N saves of the same loaded form, released
// together: exactly one wins, and exactly one history entry is written.
func TestParallelSavesOfOneForm(t *testing.T) { forEachDB(t, testParallelSavesOfOneForm) }

func testParallelSavesOfOneForm(t *testing.T, d testenv.DB) {
	app := newInventory(t, inventoryOptions{db: d})
	seedInventory(t, app)
	c := superuser(t, app)
	const path = "/admin/inventory/item/1/change/"
	v := version(t, c.Get(path))
	const n = 8
	var saved, refused, other atomic.Int32
	authtest.Race(n, func(i int) {
		r := c.PostForm(path, itemForm("A-1", fmt.Sprintf("Bolt %d", i), "1", "_version", v))
		switch {
		case r.Status == http.StatusSeeOther:
			saved.Add(1)
		case r.Status == http.StatusOK && strings.Contains(formError(r.Body), "Someone else changed"):
			refused.Add(1)
		default:
			other.Add(1)
		}
	})
	if saved.Load() != 1 || refused.Load() != n-1 || other.Load() != 0 {
		t.Fatalf("want 1 save and %d refusals, got %d saves, %d refusals, %d other", n-1, saved.Load(), refused.Load(), other.Load())
	}
	var entries int64
	app.DB.Model(&admin.LogEntry{}).Where("model = ? AND object_id = ?", "item", "1").Count(&entries)
	if entries != 1 {
		t.Fatalf("want 1 history entry, got %d", entries)
	}
}

// TestHistoryInTheChangesTransaction: when the history row cannot be
// written, the change it records is not kept either.
func TestHistoryInTheChangesTransaction(t *testing.T) {
	forEachDB(t, testHistoryInTheChangesTransaction)
}

func testHistoryInTheChangesTransaction(t *testing.T, d testenv.DB) {
	var failLog atomic.Bool
	app := newInventory(t, inventoryOptions{db: d, setup: func(db *gorm.DB) {
		_ = db.Callback().Create().Before("gorm:create").Register("test:log_down", func(tx *gorm.DB) {
			if tx.Statement.Table == "admin_log" && failLog.Load() {
				_ = tx.AddError(errors.New("history store down"))
			}
		})
	}})
	seedInventory(t, app)
	c := superuser(t, app)
	failLog.Store(true)
	cases := []struct {
		name string
		do   func() *authtest.Response
	}{
		{"add", func() *authtest.Response {
			return c.PostForm("/admin/inventory/item/add/", itemForm("H-1", "Washer", "1"))
		}},
		{"change", func() *authtest.Response {
			return c.PostForm("/admin/inventory/item/1/change/", itemForm("A-1", "Renamed", "1"))
		}},
		{"delete", func() *authtest.Response { return c.Post("/admin/inventory/item/1/delete/") }},
		{"action", func() *authtest.Response {
			return c.PostForm("/admin/inventory/item/", url.Values{"action": {"restock"}, "_selected_action": {"1"}})
		}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if r := tc.do(); r.Status != http.StatusInternalServerError {
				t.Fatalf("want 500 when the history cannot be written, got %d", r.Status)
			}
			var items []Product
			app.DB.Unscoped().Order("id").Find(&items)
			if len(items) != 1 || items[0].Name != "Bolt" || items[0].Qty != 3 || items[0].DeletedAt.Valid {
				t.Fatalf("the change was kept without its history entry: %+v", items)
			}
		})
	}
}

// TestInlineRows: untouched extra rows are ignored, Min and Max hold, the
// stacked layout renders.
func TestInlineRows(t *testing.T) { forEachDB(t, testInlineRows) }

func testInlineRows(t *testing.T, d testenv.DB) {
	app := newInventory(t, inventoryOptions{db: d, inline: admin.Inline{Field: "Moves", Fields: []string{"qty", "note"}, Extra: 2, Min: 1, Max: 2, Layout: admin.Stacked}})
	seedInventory(t, app)
	c := superuser(t, app)
	add := c.Get("/admin/inventory/item/add/")
	if !strings.Contains(add.Body, `class="inline stacked"`) || !strings.Contains(add.Body, `name="moves-TOTAL_FORMS" value="2"`) {
		t.Fatalf("stacked inline with 2 rows expected: %.200s", add.Body)
	}
	untouched := []string{"moves-TOTAL_FORMS", "2", "moves-0-qty", "0", "moves-0-note", "", "moves-1-qty", "0", "moves-1-note", ""}
	cases := []struct {
		name    string
		form    url.Values
		status  int
		formErr string
		moves   int64
	}{
		{"only untouched rows: Min refuses", itemForm("I-1", "Nut", "1", untouched...), 200, "at least 1 required", 0},
		{"one row filled, one untouched with int 0", itemForm("I-2", "Nut", "1", append(untouched, "moves-0-qty", "4", "moves-0-note", "delivery")...), 303, "", 1},
		{"three rows: Max refuses", itemForm("I-3", "Pin", "1", "moves-TOTAL_FORMS", "3", "moves-0-qty", "1", "moves-0-note", "a",
			"moves-1-qty", "2", "moves-1-note", "b", "moves-2-qty", "3", "moves-2-note", "c"), 200, "at most 2 allowed", 1},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			r := c.PostForm("/admin/inventory/item/add/", tc.form)
			if r.Status != tc.status {
				t.Fatalf("want %d, got %d %q %v", tc.status, r.Status, formError(r.Body), fieldErrors(r.Body))
			}
			if tc.formErr != "" && !strings.Contains(formError(r.Body), tc.formErr) {
				t.Errorf("want form error %q, got %q", tc.formErr, formError(r.Body))
			}
			if n := countAll(t, app, &StockMove{}, false); n != tc.moves {
				t.Errorf("want %d stock moves, got %d", tc.moves, n)
			}
		})
	}
}

// TestInlinePermissions: with only view permission on the child (and
// change on the parent), inline rows are read-only and posted changes to
// them are refused with 403, writing nothing.
func TestInlinePermissions(t *testing.T) { forEachDB(t, testInlinePermissions) }

func testInlinePermissions(t *testing.T, d testenv.DB) {
	app := newInventory(t, inventoryOptions{db: d})
	seedInventory(t, app)
	app.DB.Create(&StockMove{ItemID: 1, Qty: 3, Note: "opening"})
	u := app.User("clerk", true, false)
	c := app.Client()
	c.Enrol("clerk")
	var perms []auth.Permission
	// view_supplier: a posted supplier must be one the clerk may see.
	app.DB.Where("app = ? AND codename IN ?", "inventory", []string{"change_item", "view_stockmove", "view_supplier"}).Find(&perms)
	if len(perms) != 3 {
		t.Fatalf("permissions missing: %v", perms)
	}
	app.DB.Model(u).Association("Permissions").Append(perms)
	const path = "/admin/inventory/item/1/change/"
	page := c.Get(path)
	if page.Status != 200 || strings.Contains(page.Body, `name="moves-0-qty"`) || strings.Contains(page.Body, `name="moves-0-DELETE"`) || !strings.Contains(page.Body, "opening") {
		t.Fatalf("view-only inline rows must render read-only, without delete or blank rows: %d", page.Status)
	}
	base := itemForm("A-1", "Bolt", "1", "qty", "3", "_version", version(t, page), "moves-TOTAL_FORMS", "2", "moves-0-id", "1")
	cases := []struct {
		name   string
		extra  []string
		status int
	}{
		{"create a row", []string{"moves-1-qty", "9", "moves-1-note", "forged"}, http.StatusForbidden},
		{"delete a row", []string{"moves-0-DELETE", "on"}, http.StatusForbidden},
		{"change a row", []string{"moves-0-note", "rewritten"}, http.StatusForbidden},
		{"the rendered form saves", nil, http.StatusSeeOther},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			f := url.Values{}
			for k, v := range base {
				f[k] = v
			}
			for i := 0; i+1 < len(tc.extra); i += 2 {
				f.Set(tc.extra[i], tc.extra[i+1])
			}
			if r := c.PostForm(path, f); r.Status != tc.status {
				t.Fatalf("want %d, got %d %q", tc.status, r.Status, formError(r.Body))
			}
			var moves []StockMove
			app.DB.Find(&moves)
			if len(moves) != 1 || moves[0].Note != "opening" || moves[0].Qty != 3 {
				t.Fatalf("inline rows changed without permission: %+v", moves)
			}
		})
	}
	// With add permission, a new row is created (the same post that was refused).
	var add auth.Permission
	app.DB.Where("app = ? AND codename = ?", "inventory", "add_stockmove").First(&add)
	app.DB.Model(u).Association("Permissions").Append(&add)
	f := itemForm("A-1", "Bolt", "1", "qty", "3", "moves-TOTAL_FORMS", "2", "moves-0-id", "1", "moves-1-qty", "9", "moves-1-note", "delivery")
	if r := c.PostForm(path, f); r.Status != http.StatusSeeOther {
		t.Fatalf("with add_stockmove: want 303, got %d %q", r.Status, formError(r.Body))
	}
	if n := countAll(t, app, &StockMove{}, false); n != 2 {
		t.Fatalf("want 2 moves, got %d", n)
	}
}

// TestGORMConventions: soft deletes, hooks, and the tags that shape the form.
func TestGORMConventions(t *testing.T) { forEachDB(t, testGORMConventions) }

func testGORMConventions(t *testing.T, d testenv.DB) {
	app := newInventory(t, inventoryOptions{db: d})
	seedInventory(t, app)
	c := superuser(t, app)

	add := c.Get("/admin/inventory/item/add/")
	for _, want := range []string{`name="sku" value="" type="text" maxlength="20" required`, `name="qty" value="5"`, `min="0"`, `name="status" value="draft"`} {
		if !strings.Contains(add.Body, want) {
			t.Errorf("add form lacks %s", want)
		}
	}
	if r := c.PostForm("/admin/inventory/item/add/", itemForm("G-1", "Nut", "1", "qty", "-1")); r.Status != http.StatusOK || !strings.Contains(fieldErrors(r.Body)["qty"], "greater than or equal to 0") {
		t.Fatalf("check:qty >= 0: want a field error, got %d %v %q", r.Status, fieldErrors(r.Body), formError(r.Body))
	}

	// A check the form cannot evaluate: the database's refusal is a form error.
	if r := c.PostForm("/admin/inventory/item/add/", itemForm("G-1", "Nut", "1", "status", "gone")); r.Status != http.StatusOK || !strings.Contains(formError(r.Body), "database refused") {
		t.Fatalf("check:status <> 'gone': want a form error, got %d %q", r.Status, formError(r.Body))
	}

	// Hooks run, and what they set on columns outside the form is written.
	if r := c.PostForm("/admin/inventory/item/add/", itemForm("G-2", "Hex Nut", "1")); r.Status != http.StatusSeeOther {
		t.Fatalf("add: %d %q %v", r.Status, formError(r.Body), fieldErrors(r.Body))
	}
	var it Product
	app.DB.Where("sku = ?", "G-2").First(&it)
	if it.Slug != "hex-nut" {
		t.Errorf("BeforeSave's slug not stored on add: %q", it.Slug)
	}
	path := fmt.Sprintf("/admin/inventory/item/%d/change/", it.ID)
	if r := c.PostForm(path, itemForm("G-2", "Lock Nut", "1", "_version", version(t, c.Get(path)))); r.Status != http.StatusSeeOther {
		t.Fatalf("change: %d %q", r.Status, formError(r.Body))
	}
	app.DB.First(&it, it.ID)
	if it.Slug != "lock-nut" || it.Revision != 1 {
		t.Errorf("hooks' values not stored on change: slug %q revision %d", it.Slug, it.Revision)
	}

	// Soft delete: deleting soft-deletes; the row leaves lists, counts and choices.
	if r := c.Post(path[:len(path)-len("change/")] + "delete/"); r.Status != http.StatusSeeOther {
		t.Fatalf("delete: %d", r.Status)
	}
	if n, all := countAll(t, app, &Product{}, false), countAll(t, app, &Product{}, true); n != 1 || all != 2 {
		t.Fatalf("want a soft delete (1 visible of 2 rows), got %d of %d", n, all)
	}
	c.Get("/admin/inventory/item/") // shows the flash, which names the deleted row
	if r := c.Get("/admin/inventory/item/"); !strings.Contains(r.Body, "1 result") || strings.Contains(r.Body, "Lock Nut") {
		t.Errorf("changelist shows a soft-deleted row")
	}
	if r := c.Get("/admin/inventory/item/2/change/"); r.Status != http.StatusNotFound {
		t.Errorf("a soft-deleted row's change page: want 404, got %d", r.Status)
	}
	app.DB.Delete(&Vendor{}, 2)
	if r := c.Get("/admin/inventory/item/add/"); strings.Contains(r.Body, "Globex") {
		t.Errorf("a soft-deleted supplier is offered as a choice")
	}
	if r := c.PostForm("/admin/inventory/item/add/", itemForm("G-3", "Nut", "2")); r.Status != http.StatusOK || fieldErrors(r.Body)["supplier_id"] == "" {
		t.Errorf("a soft-deleted supplier was accepted: %d", r.Status)
	}
}
