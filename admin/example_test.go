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
