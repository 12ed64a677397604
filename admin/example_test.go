package admin_test

import (
	"context"
	"fmt"
	"net/http/httptest"
	"os"
	"path/filepath"

	"gorm.io/driver/sqlite"
	"gorm.io/gorm"

	"github.com/gatehouse/gatehouse/admin"
	"github.com/gatehouse/gatehouse/auth"
)

// Example mounts a guarded admin on a Gin engine: anonymous visitors are
// sent to the admin login, which forwards to the two-factor login.
func Example() {
	dir, _ := os.MkdirTemp("", "gatehouse-example")
	defer os.RemoveAll(dir)
	db, err := gorm.Open(sqlite.Open(filepath.Join(dir, "site.db")), &gorm.Config{})
	if err != nil {
		panic(err)
	}
	cfg := auth.Defaults()
	cfg.SecretKey = []byte("replace me with 32 or more random bytes")
	a, err := auth.New(db, cfg)
	if err != nil {
		panic(err)
	}
	if err := a.Migrate(context.Background()); err != nil {
		panic(err)
	}
	engine := a.Engine()
	admin.NewSite(a, admin.Options{}).Mount(engine)
	handler := auth.Handler(engine) // serve this with http.ListenAndServe

	rec := httptest.NewRecorder()
	handler.ServeHTTP(rec, httptest.NewRequest("GET", "/admin/", nil))
	fmt.Println(rec.Code, rec.Header().Get("Location"))
	// Output: 303 /admin/login/?next=%2Fadmin%2F
}

// Song is a model of your own; its String method names rows in the admin.
type Song struct {
	ID     uint   `gorm:"primaryKey"`
	Title  string `gorm:"size:200;not null;index"`
	Artist string `gorm:"size:200;not null"`
	Genre  string `gorm:"size:20;not null"`
	Live   bool
}

func (s *Song) String() string { return s.Title }

// ExampleRegister registers a model with Django-style options: list
// columns, search, filters, ordering and choices. Column names are the
// database's; a typo or a secret column panics at start.
func ExampleRegister() {
	dir, _ := os.MkdirTemp("", "gatehouse-example")
	defer os.RemoveAll(dir)
	db, _ := gorm.Open(sqlite.Open(filepath.Join(dir, "site.db")), &gorm.Config{})
	_ = db.AutoMigrate(&Song{})
	cfg := auth.Defaults()
	cfg.SecretKey = []byte("replace me with 32 or more random bytes")
	a, _ := auth.New(db, cfg)
	_ = a.Migrate(context.Background())

	site := admin.NewSite(a, admin.Options{})
	admin.Register(site, admin.ModelAdmin[Song]{
		App:          "music",
		ListDisplay:  []string{"title", "artist", "genre", "live"},
		SearchFields: []string{"title", "artist"},
		ListFilter:   []admin.Filter{admin.ChoiceFilter("genre"), admin.BoolFilter("live")},
		Ordering:     []string{"title"},
		Choices:      map[string][]admin.Choice{"genre": {{Value: "jazz", Label: "Jazz"}, {Value: "folk", Label: "Folk"}}},
	})
	_ = site.Migrate(context.Background()) // history table and view/add/change/delete permissions
	engine := a.Engine()
	site.Mount(engine)

	var perms int64
	db.Model(&auth.Permission{}).Where("app = ?", "music").Count(&perms)
	fmt.Println("permissions:", perms)
	// Output: permissions: 4
}
