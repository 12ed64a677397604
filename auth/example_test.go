package auth_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"

	"github.com/gin-gonic/gin"
	"gorm.io/driver/sqlite"
	"gorm.io/gorm"

	"github.com/gatehouse/gatehouse/auth"
)

func exampleService() (*auth.Service, func()) {
	dir, _ := os.MkdirTemp("", "gatehouse-example")
	db, err := gorm.Open(sqlite.Open(filepath.Join(dir, "site.db")), &gorm.Config{})
	if err != nil {
		panic(err)
	}
	cfg := auth.Defaults()
	cfg.SecretKey = []byte("replace me with 32 or more random bytes")
	s, err := auth.New(db, cfg)
	if err != nil {
		panic(err)
	}
	if err := s.Migrate(context.Background()); err != nil {
		panic(err)
	}
	return s, func() { os.RemoveAll(dir) }
}

// ExampleService_OTPRequired guards a route group of your own: only
// sessions verified with a second factor get through.
func ExampleService_OTPRequired() {
	s, done := exampleService()
	defer done()
	e := s.Engine()
	reports := e.Group("/reports", s.OTPRequired(auth.GuardOptions{}))
	reports.GET("/", func(c *gin.Context) { c.String(200, "hello, %s", auth.UserFrom(c).Username) })

	rec := httptest.NewRecorder()
	auth.Handler(e).ServeHTTP(rec, httptest.NewRequest("GET", "/reports/", nil))
	fmt.Println(rec.Code, rec.Header().Get("Location"))
	// Output: 303 /account/login/?next=%2Freports%2F
}

// ExampleService_OnUserVerified warns a user when a backup code was used,
// as the seed's user_verified signal suggests.
func ExampleService_OnUserVerified() {
	s, done := exampleService()
	defer done()
	s.OnUserVerified(func(r *http.Request, u *auth.User, d auth.Device) {
		if d.MethodCode() == "backup" {
			// Send u.Email a message: "a backup code was used to log in".
			fmt.Printf("backup code used by %s from %s\n", u.Username, r.RemoteAddr)
		}
	})
	fmt.Println("hook registered")
	// Output: hook registered
}
