package admin_test

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/gin-gonic/gin"
	"gorm.io/gorm"
	"gorm.io/gorm/clause"

	"github.com/gatehouse/gatehouse/admin"
	"github.com/gatehouse/gatehouse/auth"
	"github.com/gatehouse/gatehouse/auth/authtest"
	"github.com/gatehouse/gatehouse/internal/testenv"
)

// Two tenants share the tables; every admin is scoped by the tenant column.
type Customer struct {
	ID     uint   `gorm:"primaryKey"`
	Tenant string `gorm:"size:20;not null;index"`
	Name   string `gorm:"size:100;not null"`
}

func (c *Customer) String() string { return c.Name }

type Label struct {
	ID     uint   `gorm:"primaryKey"`
	Tenant string `gorm:"size:20;not null;index"`
	Name   string `gorm:"size:100;not null"`
}

func (l *Label) String() string { return l.Name }

type Order struct {
	ID         uint   `gorm:"primaryKey"`
	Tenant     string `gorm:"size:20;not null;index"`
	Ref        string `gorm:"size:20;not null"`
	CustomerID uint   `gorm:"not null;index"`
	Customer   *Customer
	Labels     []Label `gorm:"many2many:order_labels"`
	Lines      []Line  `gorm:"constraint:OnDelete:CASCADE"`
}

func (o *Order) String() string { return o.Ref }

type Line struct {
	ID      uint   `gorm:"primaryKey"`
	Tenant  string `gorm:"size:20;not null;index"`
	OrderID uint   `gorm:"not null;index"`
	Text    string `gorm:"size:100;not null"`
}

func (l *Line) String() string { return l.Text }

// tenantOf is the tenant a user works for: "ta" for ta and carol, "tb" for tb.
func tenantOf(u *auth.User) string {
	if u.Username == "carol" {
		return "ta"
	}
	return u.Username
}

// byTenant scopes table's rows to the request user's tenant; superusers see all.
func byTenant(table string) func(*gin.Context, *gorm.DB) *gorm.DB {
	return func(c *gin.Context, db *gorm.DB) *gorm.DB {
		u := auth.UserFrom(c)
		if u.IsSuperuser {
			return db
		}
		return db.Where(clause.Eq{Column: clause.Column{Table: table, Name: "tenant"}, Value: tenantOf(u)})
	}
}

type tenants struct {
	app                   *authtest.App
	ta, tb, carol         *authtest.Client
	acme, beta            Customer
	alphaLabel, betaLabel Label
	own, crossed          Order // ta's orders; crossed links tb's customer
	alphaLine, betaLine   Line  // both on own; betaLine is tb's
}

func newTenants(t *testing.T, d testenv.DB) *tenants {
	t.Helper()
	tt := &tenants{}
	tt.app = authtest.New(t, authtest.Options{DB: d, Mount: func(s *auth.Service, e *gin.Engine) {
		must(t, s.DB().AutoMigrate(&Customer{}, &Label{}, &Order{}, &Line{}))
		site := admin.NewSite(s, admin.Options{})
		admin.Register(site, admin.ModelAdmin[Customer]{App: "shop", ListDisplay: []string{"name"}, SearchFields: []string{"name"}, Scope: byTenant("customers")})
		admin.Register(site, admin.ModelAdmin[Label]{App: "shop", ListDisplay: []string{"name"}, Scope: byTenant("labels")})
		admin.Register(site, admin.ModelAdmin[Line]{App: "shop", ListDisplay: []string{"text"}, Scope: byTenant("lines")})
		admin.Register(site, admin.ModelAdmin[Order]{App: "shop", ListDisplay: []string{"ref", "customer_id"},
			SearchFields: []string{"ref", "customer.name"}, ListFilter: []admin.Filter{admin.ForeignKeyFilter("customer_id")},
			Fields: []string{"ref", "customer_id", "labels"}, Autocomplete: []string{"customer_id"},
			Inlines: []admin.Inline{{Field: "Lines", Fields: []string{"text"}}},
			Scope:   byTenant("orders"),
			BeforeSave: func(c *gin.Context, o *Order, created bool) error {
				o.Tenant = tenantOf(auth.UserFrom(c))
				return nil
			}})
		must(t, site.Migrate(context.Background()))
		site.Mount(e)
	}})
	db := tt.app.DB
	tt.acme, tt.beta = Customer{Tenant: "ta", Name: "Acme Alpha"}, Customer{Tenant: "tb", Name: "Beta Bolts"}
	tt.alphaLabel, tt.betaLabel = Label{Tenant: "ta", Name: "alpha-label"}, Label{Tenant: "tb", Name: "beta-label"}
	must(t, db.Create(&tt.acme).Error)
	must(t, db.Create(&tt.beta).Error)
	must(t, db.Create(&tt.alphaLabel).Error)
	must(t, db.Create(&tt.betaLabel).Error)
	// Links across tenants that the admin must neither show nor drop.
	tt.own = Order{Tenant: "ta", Ref: "OA-1", CustomerID: tt.acme.ID, Labels: []Label{tt.alphaLabel, tt.betaLabel}}
	tt.crossed = Order{Tenant: "ta", Ref: "OX-2", CustomerID: tt.beta.ID}
	must(t, db.Create(&tt.own).Error)
	must(t, db.Create(&tt.crossed).Error)
	tt.alphaLine, tt.betaLine = Line{Tenant: "ta", OrderID: tt.own.ID, Text: "alpha line"}, Line{Tenant: "tb", OrderID: tt.own.ID, Text: "beta line"}
	must(t, db.Create(&tt.alphaLine).Error)
	must(t, db.Create(&tt.betaLine).Error)

	grant := func(name string, perms ...string) *authtest.Client {
		u := tt.app.User(name, true, false)
		var ps []auth.Permission
		must(t, db.Where("app = ? AND codename IN ?", "shop", perms).Find(&ps).Error)
		if len(ps) != len(perms) {
			t.Fatalf("permissions %v: found %d", perms, len(ps))
		}
		must(t, db.Model(u).Association("Permissions").Append(ps))
		c := tt.app.Client()
		c.Enrol(name)
		return c
	}
	all := []string{"view_order", "add_order", "change_order", "delete_order", "view_customer", "view_label", "view_line", "add_line", "change_line", "delete_line"}
	tt.ta = grant("ta", all...)
	tt.tb = grant("tb", all...)
	tt.carol = grant("carol", "view_order", "add_order", "change_order", "view_label", "view_line", "add_line", "change_line")
	return tt
}

// TestScopeHoldsEverywhere: a tenant's staff never see or link the other
// tenant's rows through choices, autocomplete, filters, search across
// relations, changelist cells, inlines, the delete page or posted ids; and
// the related model's view permission applies the same way.
func TestScopeHoldsEverywhere(t *testing.T) { forEachDB(t, testScopeHoldsEverywhere) }

func testScopeHoldsEverywhere(t *testing.T, d testenv.DB) {
	tt := newTenants(t, d)
	own := fmt.Sprint(tt.own.ID)
	pages := []struct {
		name, path string
		want, hide []string
	}{
		{"fk and m2m choices", "/admin/shop/order/add/", []string{"Acme Alpha", "alpha-label"}, []string{"Beta Bolts", "beta-label"}},
		{"change form and inline", "/admin/shop/order/" + own + "/change/", []string{"Acme Alpha", "alpha line", "alpha-label"}, []string{"Beta Bolts", "beta line", "beta-label"}},
		{"autocomplete", "/admin/shop/order/autocomplete/?field=customer_id&term=", []string{"Acme Alpha"}, []string{"Beta Bolts"}},
		{"autocomplete search", "/admin/shop/order/autocomplete/?field=customer_id&term=bolts", nil, []string{"Beta Bolts"}},
		{"filter options and cells", "/admin/shop/order/", []string{"OA-1", "OX-2", "Acme Alpha"}, []string{"Beta Bolts"}},
		{"search across the relation", "/admin/shop/order/?q=bolts", []string{"0 results"}, []string{"OX-2"}},
		{"search across the relation, own", "/admin/shop/order/?q=acme", []string{"1 result", "OA-1"}, []string{"OX-2"}},
		{"delete page lists", "/admin/shop/order/" + own + "/delete/", []string{"alpha line", "… and 1 more"}, []string{"beta line"}},
	}
	for _, p := range pages {
		t.Run(p.name, func(t *testing.T) {
			r := tt.ta.Get(p.path)
			if r.Status != http.StatusOK {
				t.Fatalf("%s: want 200, got %d", p.path, r.Status)
			}
			for _, w := range p.want {
				if !strings.Contains(r.Body, w) {
					t.Errorf("%s lacks %q", p.path, w)
				}
			}
			for _, h := range p.hide {
				if strings.Contains(r.Body, h) {
					t.Errorf("%s shows the other tenant's %q", p.path, h)
				}
			}
		})
	}
	t.Run("the other tenant sees its own", func(t *testing.T) {
		r := tt.tb.Get("/admin/shop/order/autocomplete/?field=customer_id&term=")
		if r.Status != http.StatusOK || !strings.Contains(r.Body, "Beta Bolts") || strings.Contains(r.Body, "Acme Alpha") {
			t.Fatalf("tb's autocomplete: %d %q", r.Status, r.Body)
		}
	})
	t.Run("no view permission on the target", func(t *testing.T) {
		if r := tt.carol.Get("/admin/shop/order/autocomplete/?field=customer_id&term="); r.Status != http.StatusForbidden || strings.Contains(r.Body, "Acme") {
			t.Fatalf("autocomplete without view_customer: want 403, got %d", r.Status)
		}
		if r := tt.carol.Get("/admin/shop/order/add/"); r.Status != http.StatusOK || strings.Contains(r.Body, "Acme Alpha") {
			t.Fatalf("add form without view_customer shows customers: %d", r.Status)
		}
	})

	posts := []struct {
		name   string
		client *authtest.Client
		form   url.Values
		field  string
	}{
		{"fk of the other tenant", tt.ta, url.Values{"ref": {"N-1"}, "customer_id": {fmt.Sprint(tt.beta.ID)}}, "customer_id"},
		{"m2m of the other tenant", tt.ta, url.Values{"ref": {"N-2"}, "customer_id": {fmt.Sprint(tt.acme.ID)}, "labels": {fmt.Sprint(tt.betaLabel.ID)}}, "labels"},
		{"fk of a model the user cannot view", tt.carol, url.Values{"ref": {"N-3"}, "customer_id": {fmt.Sprint(tt.acme.ID)}}, "customer_id"},
	}
	for _, p := range posts {
		t.Run("post "+p.name, func(t *testing.T) {
			r := p.client.PostForm("/admin/shop/order/add/", p.form)
			if r.Status != http.StatusOK || !strings.Contains(r.Body, "Select a valid choice") {
				t.Fatalf("want 200 with a field error on %s, got %d", p.field, r.Status)
			}
			if n := countRows(t, tt.app, &Order{}, "ref = ?", p.form.Get("ref")); n != 0 {
				t.Fatal("an order was saved with a row outside the scope")
			}
		})
	}
	t.Run("post an inline row of the other tenant", func(t *testing.T) {
		form := url.Values{"ref": {"OA-1"}, "customer_id": {fmt.Sprint(tt.acme.ID)}, "labels": {fmt.Sprint(tt.alphaLabel.ID)},
			"lines-TOTAL_FORMS": {"1"}, "lines-0-id": {fmt.Sprint(tt.betaLine.ID)}, "lines-0-text": {"stolen"}}
		if r := tt.ta.PostForm("/admin/shop/order/"+own+"/change/", form); r.Status != http.StatusOK || !strings.Contains(r.Body, "Select a valid choice") {
			t.Fatalf("want 200 with an error, got %d", r.Status)
		}
		if countRows(t, tt.app, &Line{}, "text = ?", "beta line") != 1 {
			t.Fatal("the other tenant's inline row was changed")
		}
	})
	t.Run("a save keeps links it could not show", func(t *testing.T) {
		form := url.Values{"ref": {"OA-1b"}, "customer_id": {fmt.Sprint(tt.acme.ID)}, "labels": {fmt.Sprint(tt.alphaLabel.ID)}}
		if r := tt.ta.PostForm("/admin/shop/order/"+own+"/change/", form); r.Status != http.StatusSeeOther {
			t.Fatalf("save: want 303, got %d", r.Status)
		}
		var o Order
		must(t, tt.app.DB.Preload("Labels").First(&o, tt.own.ID).Error)
		if o.Ref != "OA-1b" || len(o.Labels) != 2 {
			t.Fatalf("want the ref saved and both labels kept, got %q with %d labels", o.Ref, len(o.Labels))
		}
	})
}
