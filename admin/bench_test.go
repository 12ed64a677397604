package admin_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"net/url"
	"syscall"
	"testing"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/gatehouse/gatehouse/admin"
	"github.com/gatehouse/gatehouse/auth"
	"github.com/gatehouse/gatehouse/auth/authtest"
	"github.com/gatehouse/gatehouse/cmd/site/library"
)

// BenchmarkLibraryChangelist measures one changelist page of 100 books
// (query, rows, template) in process, without the network: the CPU cost
// per request that bounds the throughput `site bench-admin` measures on a
// million rows. Run: go test -run '^$' -bench LibraryChangelist -benchmem ./admin/
func BenchmarkLibraryChangelist(b *testing.B) {
	var engine *gin.Engine
	app := authtest.New(b, authtest.Options{Mount: func(s *auth.Service, e *gin.Engine) {
		ctx := context.Background()
		if err := library.Migrate(ctx, s.DB()); err != nil {
			b.Fatal(err)
		}
		site := admin.NewSite(s, admin.Options{})
		library.Register(site, s.Now)
		if err := site.Migrate(ctx); err != nil {
			b.Fatal(err)
		}
		site.Mount(e)
		engine = e
	}})
	if _, err := library.Seed(context.Background(), app.DB, library.SeedOptions{Books: 3000, Seed: 1}); err != nil {
		b.Fatal(err)
	}
	app.User("root", true, true)
	c := app.Client()
	c.Enrol("root")
	h := auth.Handler(engine)
	server, _ := url.Parse(app.Server.URL)
	for _, sc := range []struct{ name, query string }{
		{"default", ""}, {"sorted", "?o=title"}, {"search", "?q=garden"}, {"filter", "?genre=novel"}, {"deep_page", "?p=25"},
	} {
		b.Run(sc.name, func(b *testing.B) {
			req := httptest.NewRequest(http.MethodGet, "/admin/library/book/"+sc.query, nil)
			for _, ck := range c.Jar.Cookies(server) {
				req.AddCookie(ck)
			}
			b.ReportAllocs()
			cpu0 := processCPU()
			for b.Loop() {
				w := httptest.NewRecorder()
				h.ServeHTTP(w, req)
				if w.Code != http.StatusOK {
					b.Fatalf("status %d", w.Code)
				}
			}
			// CPU time per page (GC included): unlike ns/op it hardly
			// moves when other processes share the machine.
			b.ReportMetric(float64(processCPU()-cpu0)/float64(b.N)/1e6, "cpu-ms/op")
		})
	}
}

// processCPU is the CPU time the process used so far.
func processCPU() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
