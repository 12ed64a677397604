package main

import (
	"net/http"
	"regexp"
	"strings"
	"testing"

	"github.com/gin-gonic/gin"

	"github.com/gatehouse/gatehouse/auth"
	"github.com/gatehouse/gatehouse/auth/authtest"
)

// newApp starts the inventory on a fresh database with two suppliers (one
// inactive), one item with a stock move, and a verified superuser.
func newApp(t *testing.T) (*authtest.App, *authtest.Client) {
	t.Helper()
	app := authtest.New(t, authtest.Options{Mount: func(s *auth.Service, e *gin.Engine) {
		if err := Mount(s, e); err != nil {
			t.Fatal(err)
		}
	}})
	for _, v := range []any{&Supplier{Name: "Acme", Active: true}, &Supplier{Name: "Dormant", Active: true},
		&Item{SKU: "B-1", Name: "Bolt", SupplierID: 1, Qty: 5}, &StockMove{ItemID: 1, Qty: 5, Note: "opening"}} {
		if err := app.DB.Create(v).Error; err != nil {
			t.Fatal(err)
		}
	}
	app.DB.Model(&Supplier{}).Where("name = ?", "Dormant").Update("active", false)
	app.User("root", true, true)
	c := app.Client()
	c.Enrol("root")
	return app, c
}

func count(t *testing.T, app *authtest.App, model any) int64 {
	t.Helper()
	var n int64
	if err := app.DB.Model(model).Count(&n).Error; err != nil {
		t.Fatal(err)
	}
	return n
}

var versionRE = regexp.MustCompile(`name="_version" value="([^"]*)"`)

func TestDeletesFollowDeclaredRelations(t *testing.T) {
	app, c := newApp(t)
	// A supplier with items is protected: listed, no confirm, a forged POST deletes nothing.
	if r := c.Get("/admin/inventory/supplier/1/delete/"); r.Status != http.StatusOK || !strings.Contains(r.Body, "Bolt") || strings.Contains(r.Body, `name="post"`) {
		t.Fatalf("protected delete page: want 200 listing the item without a confirm button, got %d", r.Status)
	}
	if r := c.Post("/admin/inventory/supplier/1/delete/", "post", "yes"); r.Status != http.StatusConflict {
		t.Fatalf("forged delete of a protected supplier: want 409, got %d", r.Status)
	}
	if count(t, app, &Supplier{}) != 2 {
		t.Fatal("a protected supplier was deleted")
	}
	// An item's stock moves cascade with it.
	if r := c.Post("/admin/inventory/item/1/delete/", "post", "yes"); r.Status != http.StatusSeeOther {
		t.Fatalf("item delete: want 303, got %d", r.Status)
	}
	if count(t, app, &Item{}) != 0 || count(t, app, &StockMove{}) != 0 {
		t.Fatal("the item's stock moves did not go with it")
	}
}

func TestUniqueSKUIsAFieldError(t *testing.T) {
	app, c := newApp(t)
	r := c.Post("/admin/inventory/item/add/", "sku", "B-1", "name", "Another", "supplier_id", "1", "qty", "1", "moves-TOTAL_FORMS", "0")
	if r.Status != http.StatusOK || !strings.Contains(r.Body, "already exists") {
		t.Fatalf("duplicate SKU: want 200 with the field error, got %d", r.Status)
	}
	if count(t, app, &Item{}) != 1 {
		t.Fatal("a duplicate SKU was saved")
	}
}

func TestScopeHidesInactiveSuppliersFromStaff(t *testing.T) {
	app, _ := newApp(t)
	clerk := app.User("clerk", true, false)
	var perms []auth.Permission
	app.DB.Where("app = ? AND codename IN ?", "inventory", []string{"view_supplier", "view_item", "add_item", "view_stockmove", "add_stockmove"}).Find(&perms)
	if err := app.DB.Model(clerk).Association("Permissions").Append(perms); err != nil {
		t.Fatal(err)
	}
	c := app.Client()
	c.Enrol("clerk")
	if r := c.Get("/admin/inventory/item/add/"); r.Status != http.StatusOK || strings.Contains(r.Body, "Dormant") {
		t.Fatalf("the item form must not offer an inactive supplier to staff: %d", r.Status)
	}
	r := c.Post("/admin/inventory/item/add/", "sku", "N-1", "name", "Nut", "supplier_id", "2", "qty", "1", "moves-TOTAL_FORMS", "0")
	if r.Status != http.StatusOK || count(t, app, &Item{}) != 1 {
		t.Fatalf("a posted hidden supplier must be a field error: got %d, %d items", r.Status, count(t, app, &Item{}))
	}
	if r := c.Get("/admin/inventory/supplier/2/change/"); r.Status != http.StatusNotFound {
		t.Fatalf("a hidden supplier's page: want 404, got %d", r.Status)
	}
}

// Two tabs load the same item; the second save, made on the stale form,
// is refused and names what the first changed.
func TestNoLostUpdate(t *testing.T) {
	app, c := newApp(t)
	page := c.Get("/admin/inventory/item/1/change/")
	m := versionRE.FindStringSubmatch(page.Body)
	if page.Status != http.StatusOK || m == nil {
		t.Fatalf("change form: want 200 with _version, got %d", page.Status)
	}
	form := func(name, qty string) []string {
		return []string{"_version", m[1], "sku", "B-1", "name", name, "supplier_id", "1", "qty", qty,
			"moves-TOTAL_FORMS", "1", "moves-0-id", "1", "moves-0-qty", "5", "moves-0-note", "opening"}
	}
	if r := c.Post("/admin/inventory/item/1/change/", form("Hex bolt", "5")...); r.Status != http.StatusSeeOther {
		t.Fatalf("first save: want 303, got %d", r.Status)
	}
	r := c.Post("/admin/inventory/item/1/change/", form("Bolt", "9")...)
	if r.Status != http.StatusOK || !strings.Contains(r.Body, "Name") {
		t.Fatalf("stale save: want 200 naming the changed field, got %d", r.Status)
	}
	var it Item
	app.DB.First(&it, 1)
	if it.Name != "Hex bolt" || it.Qty != 5 {
		t.Fatalf("the stale form overwrote the first save: %+v", it)
	}
}
