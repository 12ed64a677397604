package admin_test

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/gin-gonic/gin"

	"github.com/gatehouse/gatehouse/admin"
	"github.com/gatehouse/gatehouse/auth"
	"github.com/gatehouse/gatehouse/auth/authtest"
	"github.com/gatehouse/gatehouse/internal/testenv"
)

// A supplier's relations declare every OnDelete the admin honours.
type Supplier struct {
	ID       uint      `gorm:"primaryKey"`
	Name     string    `gorm:"size:100;not null"`
	Items    []Item    `gorm:"constraint:OnDelete:RESTRICT"`
	Notes    []Note    `gorm:"constraint:OnDelete:CASCADE"`
	Offers   []Offer   `gorm:"constraint:OnDelete:SET NULL"`
	Contacts []Contact // nothing declared: protects
	Regions  []Region  `gorm:"many2many:supplier_regions"`
}

func (s *Supplier) String() string { return s.Name }

type Item struct {
	ID         uint   `gorm:"primaryKey"`
	SupplierID uint   `gorm:"not null;index"`
	Name       string `gorm:"size:100"`
}

func (i *Item) String() string { return i.Name }

// Note cascades with its supplier, and its marks with it.
type Note struct {
	ID         uint   `gorm:"primaryKey"`
	SupplierID uint   `gorm:"not null;index"`
	Text       string `gorm:"size:100"`
	Marks      []Mark `gorm:"constraint:OnDelete:CASCADE"`
}

func (n *Note) String() string { return n.Text }

type Mark struct {
	ID     uint   `gorm:"primaryKey"`
	NoteID uint   `gorm:"not null;index"`
	Label  string `gorm:"size:100"`
}

func (m *Mark) String() string { return m.Label }

type Offer struct {
	ID         uint   `gorm:"primaryKey"`
	SupplierID *uint  `gorm:"index"`
	Name       string `gorm:"size:100"`
}

func (o *Offer) String() string { return o.Name }

type Contact struct {
	ID         uint   `gorm:"primaryKey"`
	SupplierID uint   `gorm:"not null;index"`
	Name       string `gorm:"size:100"`
}

func (o *Contact) String() string { return o.Name }

type Region struct {
	ID   uint   `gorm:"primaryKey"`
	Name string `gorm:"size:100"`
}

func (r *Region) String() string { return r.Name }

func newSuppliers(t *testing.T, d testenv.DB) *authtest.App {
	t.Helper()
	return authtest.New(t, authtest.Options{DB: d, Mount: func(s *auth.Service, e *gin.Engine) {
		if err := s.DB().AutoMigrate(&Region{}, &Supplier{}, &Item{}, &Note{}, &Mark{}, &Offer{}, &Contact{}); err != nil {
			t.Fatal(err)
		}
		site := admin.NewSite(s, admin.Options{})
		admin.Register(site, admin.ModelAdmin[Supplier]{App: "inv", ListDisplay: []string{"name"}})
		admin.Register(site, admin.ModelAdmin[Item]{App: "inv", ListDisplay: []string{"name"}})
		admin.Register(site, admin.ModelAdmin[Region]{App: "inv", ListDisplay: []string{"name"}})
		admin.Register(site, admin.ModelAdmin[Note]{App: "inv", ListDisplay: []string{"text"}})
		if err := site.Migrate(context.Background()); err != nil {
			t.Fatal(err)
		}
		site.Mount(e)
	}})
}

// seedSupplier creates a supplier named name with one row of each kind the
// kinds list names: item, note, offer, contact, region.
func seedSupplier(t *testing.T, app *authtest.App, name string, kinds ...string) *Supplier {
	t.Helper()
	s := &Supplier{Name: name}
	must(t, app.DB.Create(s).Error)
	for _, k := range kinds {
		switch k {
		case "item":
			must(t, app.DB.Create(&Item{SupplierID: s.ID, Name: name + " item"}).Error)
		case "note":
			n := &Note{SupplierID: s.ID, Text: name + " note"}
			must(t, app.DB.Create(n).Error)
			must(t, app.DB.Create(&Mark{NoteID: n.ID, Label: name + " mark"}).Error)
		case "offer":
			must(t, app.DB.Create(&Offer{SupplierID: &s.ID, Name: name + " offer"}).Error)
		case "contact":
			must(t, app.DB.Create(&Contact{SupplierID: s.ID, Name: name + " contact"}).Error)
		case "region":
			must(t, app.DB.Model(s).Association("Regions").Append(&Region{Name: name + " region"}))
		}
	}
	return s
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

func countRows(t *testing.T, app *authtest.App, model any, where ...any) int64 {
	t.Helper()
	var n int64
	q := app.DB.Model(model)
	if len(where) > 0 {
		q = q.Where(where[0], where[1:]...)
	}
	must(t, q.Count(&n).Error)
	return n
}

// TestDeleteHonoursOnDelete: RESTRICT and undeclared relations protect
// (listed, no confirm button, a forged POST is 409 and deletes nothing),
// CASCADE goes with the row (two levels deep), SET NULL unlinks, and the
// many-to-many links go; on the single and the bulk delete.
func TestDeleteHonoursOnDelete(t *testing.T) { forEachDB(t, testDeleteHonoursOnDelete) }

func testDeleteHonoursOnDelete(t *testing.T, d testenv.DB) {
	app := newSuppliers(t, d)
	c := superuser(t, app)
	var fk int
	if d.Name == "sqlite" {
		must(t, app.DB.Raw("PRAGMA foreign_keys").Scan(&fk).Error)
		if fk != 1 {
			t.Fatalf("SQLite runs without foreign keys: PRAGMA foreign_keys = %d", fk)
		}
	}
	protected := []struct {
		name, kind, blocker string
	}{
		{"RESTRICT protects", "item", "Item: restrict item"},
		{"undeclared protects", "contact", "Contact: undeclared contact"},
	}
	for _, tc := range protected {
		t.Run(tc.name, func(t *testing.T) {
			s := seedSupplier(t, app, strings.ToLower(strings.Fields(tc.name)[0]), tc.kind, "note", "offer")
			path := fmt.Sprintf("/admin/inv/supplier/%d/delete/", s.ID)
			r := c.Get(path)
			if r.Status != http.StatusOK || !strings.Contains(r.Body, tc.blocker) || !strings.Contains(r.Body, "Cannot delete") {
				t.Fatalf("delete page must list the protected %s: %d %.800s", tc.kind, r.Status, r.Body)
			}
			if strings.Contains(r.Body, `type="submit" class="danger"`) {
				t.Fatal("a protected delete offers a confirm button")
			}
			if r := c.Post(path); r.Status != http.StatusConflict || !strings.Contains(r.Body, tc.blocker) {
				t.Fatalf("forged delete POST: want 409 listing %q, got %d", tc.blocker, r.Status)
			}
			bulk := url.Values{"action": {"delete_selected"}, "_selected_action": {fmt.Sprint(s.ID)}}
			if r := c.PostForm("/admin/inv/supplier/", bulk); r.Status != http.StatusOK || !strings.Contains(r.Body, tc.blocker) || strings.Contains(r.Body, `name="post" value="yes"`) {
				t.Fatalf("delete selected must list the protected rows without a confirm: %d", r.Status)
			}
			bulk.Set("post", "yes")
			if r := c.PostForm("/admin/inv/supplier/", bulk); r.Status != http.StatusConflict {
				t.Fatalf("forged delete selected: want 409, got %d", r.Status)
			}
			if countRows(t, app, &Supplier{}, "id = ?", s.ID) != 1 || countRows(t, app, &Note{}, "supplier_id = ?", s.ID) != 1 ||
				countRows(t, app, &Offer{}, "supplier_id = ?", s.ID) != 1 {
				t.Fatal("a refused delete deleted or unlinked something")
			}
		})
	}
	t.Run("CASCADE and SET NULL", func(t *testing.T) {
		s := seedSupplier(t, app, "free", "note", "offer", "region")
		path := fmt.Sprintf("/admin/inv/supplier/%d/delete/", s.ID)
		r := c.Get(path)
		for _, want := range []string{"Note: free note", "Mark: free mark", "Regions: 1", "Offer: free offer", "will be kept", `type="submit" class="danger"`} {
			if !strings.Contains(r.Body, want) {
				t.Errorf("delete page lacks %q", want)
			}
		}
		if r.Status != http.StatusOK || t.Failed() {
			t.Fatalf("%d %.1500s", r.Status, r.Body)
		}
		if r := c.Post(path); r.Status != http.StatusSeeOther || r.Location() != "/admin/inv/supplier/" {
			t.Fatalf("delete: want 303 to the list, got %d %q", r.Status, r.Location())
		}
		if n := countRows(t, app, &Supplier{}, "id = ?", s.ID); n != 0 {
			t.Fatal("supplier not deleted")
		}
		if countRows(t, app, &Note{}, "supplier_id = ?", s.ID) != 0 || countRows(t, app, &Mark{}, "label = ?", "free mark") != 0 {
			t.Fatal("CASCADE rows survived (notes or their marks)")
		}
		if countRows(t, app, &Offer{}, "name = ? AND supplier_id IS NULL", "free offer") != 1 {
			t.Fatal("SET NULL: the offer must stay, unlinked")
		}
		if countRows(t, app, &Region{}, "name = ?", "free region") != 1 {
			t.Fatal("a many-to-many delete removed the linked row itself")
		}
	})
	t.Run("delete selected, mixed", func(t *testing.T) {
		ok1 := seedSupplier(t, app, "ok1", "note")
		bad := seedSupplier(t, app, "bad", "item")
		bulk := url.Values{"action": {"delete_selected"}, "post": {"yes"}, "_selected_action": {fmt.Sprint(ok1.ID), fmt.Sprint(bad.ID)}}
		if r := c.PostForm("/admin/inv/supplier/", bulk); r.Status != http.StatusConflict || !strings.Contains(r.Body, "bad item") {
			t.Fatalf("want 409 naming the protected item, got %d", r.Status)
		}
		if countRows(t, app, &Supplier{}, "id IN ?", []uint{ok1.ID, bad.ID}) != 2 {
			t.Fatal("a refused bulk delete deleted some rows")
		}
		must(t, app.DB.Where("supplier_id = ?", bad.ID).Delete(&Item{}).Error)
		if r := c.PostForm("/admin/inv/supplier/", bulk); r.Status != http.StatusSeeOther {
			t.Fatalf("bulk delete without protected rows: want 303, got %d", r.Status)
		}
		if countRows(t, app, &Supplier{}, "id IN ?", []uint{ok1.ID, bad.ID}) != 0 {
			t.Fatal("bulk delete left rows")
		}
	})
	t.Run("a cascade needs delete permission on what goes", func(t *testing.T) {
		// Django's perms_needed: a clerk who may delete suppliers but not
		// notes cannot delete a supplier whose notes would go with it.
		u := app.User("clerk", true, false)
		var perms []auth.Permission
		must(t, app.DB.Where("app = ? AND codename IN ?", "inv", []string{"view_supplier", "delete_supplier"}).Find(&perms).Error)
		must(t, app.DB.Model(u).Association("Permissions").Append(perms))
		clerk := app.Client()
		clerk.Enrol("clerk")
		s := seedSupplier(t, app, "noted", "note")
		path := fmt.Sprintf("/admin/inv/supplier/%d/delete/", s.ID)
		if r := clerk.Get(path); r.Status != http.StatusOK || !strings.Contains(r.Body, "may not delete these kinds") || !strings.Contains(r.Body, "Notes") ||
			strings.Contains(r.Body, `class="danger"`) {
			t.Fatalf("delete page must name the notes the clerk may not delete, without a confirm: %d", r.Status)
		}
		if r := clerk.Post(path); r.Status != http.StatusConflict {
			t.Fatalf("forged delete: want 409, got %d", r.Status)
		}
		bulk := url.Values{"action": {"delete_selected"}, "post": {"yes"}, "_selected_action": {fmt.Sprint(s.ID)}}
		if r := clerk.PostForm("/admin/inv/supplier/", bulk); r.Status != http.StatusConflict {
			t.Fatalf("forged delete selected: want 409, got %d", r.Status)
		}
		if countRows(t, app, &Note{}, "supplier_id = ?", s.ID) != 1 || countRows(t, app, &Supplier{}, "id = ?", s.ID) != 1 {
			t.Fatal("the clerk deleted notes through their supplier")
		}
		plain := seedSupplier(t, app, "plain", "offer")
		if r := clerk.Post(fmt.Sprintf("/admin/inv/supplier/%d/delete/", plain.ID)); r.Status != http.StatusSeeOther {
			t.Fatalf("a delete that takes nothing the clerk may not delete: want 303, got %d", r.Status)
		}
	})
	t.Run("the database enforces it too", func(t *testing.T) {
		s := seedSupplier(t, app, "db", "item")
		if err := app.DB.Delete(s).Error; err == nil {
			t.Fatal("the database let a RESTRICT parent go: foreign keys are not enforced")
		}
	})
}
