package session_test

import (
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	ginsessions "github.com/gin-contrib/sessions"
	"github.com/gin-gonic/gin"

	"github.com/gatehouse/gatehouse/auth/session"
	"github.com/gatehouse/gatehouse/internal/clock"
	"github.com/gatehouse/gatehouse/internal/testenv"
)

type backendCase struct {
	name string
	make func(t *testing.T, clk *clock.Fake) session.Backend
}

func backends(t *testing.T) []backendCase {
	var out []backendCase
	for _, d := range testenv.DBs(t) {
		out = append(out, backendCase{d.Name, func(t *testing.T, clk *clock.Fake) session.Backend {
			b := session.NewDB(testenv.Open(t, d), clk.Now)
			if err := b.Migrate(); err != nil {
				t.Fatal(err)
			}
			return b
		}})
	}
	out = append(out, backendCase{"redis", func(t *testing.T, clk *clock.Fake) session.Backend {
		url, prefix := testenv.Redis(t)
		r, err := session.NewRedis(url, prefix, clk.Now)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { r.Close() })
		return r
	}})
	return out
}

// harness is an engine with three routes: set, get, rotate and destroy.
func harness(t *testing.T, b session.Backend, clk *clock.Fake) http.Handler {
	gin.SetMode(gin.ReleaseMode)
	st := session.NewStore(b, session.Config{Idle: 30 * time.Minute, Absolute: 12 * time.Hour, Clock: clk})
	e := gin.New()
	e.Use(ginsessions.Sessions("s", st))
	e.GET("/set", func(c *gin.Context) {
		s := ginsessions.Default(c)
		s.Set("v", c.Query("v"))
		if err := s.Save(); err != nil {
			t.Error(err)
		}
	})
	e.GET("/get", func(c *gin.Context) {
		s := ginsessions.Default(c)
		if session.Touch(s, clk.Now()) {
			_ = s.Save()
		}
		v, _ := s.Get("v").(string)
		c.String(200, v)
	})
	e.GET("/rotate", func(c *gin.Context) {
		s := ginsessions.Default(c)
		session.Rotate(s)
		_ = s.Save()
	})
	e.GET("/destroy", func(c *gin.Context) {
		s := ginsessions.Default(c)
		session.Destroy(s)
		_ = s.Save()
	})
	return e
}

func call(h http.Handler, path, cookie string) (body, setCookie string) {
	r := httptest.NewRequest(http.MethodGet, path, nil)
	if cookie != "" {
		r.AddCookie(&http.Cookie{Name: "s", Value: cookie})
	}
	w := httptest.NewRecorder()
	h.ServeHTTP(w, r)
	for _, c := range w.Result().Cookies() {
		if c.Name == "s" {
			setCookie = c.Value
		}
	}
	return w.Body.String(), setCookie
}

func TestStore(t *testing.T) {
	for _, bc := range backends(t) {
		t.Run(bc.name, func(t *testing.T) {
			clk := clock.NewFake(time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC))
			h := harness(t, bc.make(t, clk), clk)
			_, id := call(h, "/set?v=hello", "")
			if len(id) != 43 {
				t.Fatalf("cookie must carry a 256-bit id, got %q", id)
			}
			if v, _ := call(h, "/get", id); v != "hello" {
				t.Fatalf("round trip: got %q", v)
			}
			guess := id[:42] + "A"
			if guess == id {
				guess = id[:42] + "B"
			}
			if v, _ := call(h, "/get", guess); v != "" {
				t.Fatalf("a guessed id read the session")
			}
			_, rotated := call(h, "/rotate", id)
			if rotated == "" || rotated == id {
				t.Fatalf("rotate must issue a new id")
			}
			if v, _ := call(h, "/get", id); v != "" {
				t.Fatalf("the id before rotation still works")
			}
			if v, _ := call(h, "/get", rotated); v != "hello" {
				t.Fatalf("rotation lost the values")
			}
			call(h, "/destroy", rotated)
			if v, _ := call(h, "/get", rotated); v != "" {
				t.Fatalf("a destroyed session still works")
			}

			_, id = call(h, "/set?v=idle", "")
			clk.Advance(29 * time.Minute)
			if v, _ := call(h, "/get", id); v != "idle" {
				t.Fatalf("ended before the idle limit")
			}
			clk.Advance(30*time.Minute + time.Second)
			if v, _ := call(h, "/get", id); v != "" {
				t.Fatalf("survived the idle limit")
			}

			_, id = call(h, "/set?v=abs", "")
			for range 35 {
				clk.Advance(20 * time.Minute)
				if v, _ := call(h, "/get", id); v != "abs" {
					t.Fatalf("an active session ended before 12 h")
				}
			}
			clk.Advance(20 * time.Minute)
			if v, _ := call(h, "/get", id); v != "" {
				t.Fatalf("survived the 12 h absolute limit")
			}
		})
	}
}
