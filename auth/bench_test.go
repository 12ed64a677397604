package auth_test

import (
	"context"
	"net/http"
	"os"
	"runtime"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gatehouse/gatehouse/auth"
	"github.com/gatehouse/gatehouse/auth/authtest"
)

// BenchmarkTokenStep measures the HTTP token step (verification, session
// rotation, redirect) on SQLite; the password step before each is excluded.
func BenchmarkTokenStep(b *testing.B) {
	app := authtest.New(b, authtest.Options{Config: func(c *auth.Config) { c.LoginTimeout = 0 }})
	app.User("ana", true, false)
	secret := app.Client().Enrol("ana")
	lat := make([]time.Duration, 0, b.N)
	b.ResetTimer()
	for range b.N {
		b.StopTimer()
		app.Clock.Advance(30 * time.Second)
		c := app.Client()
		c.Password("ana", authtest.Password)
		code := app.Code(secret, 0)
		b.StartTimer()
		t0 := time.Now()
		r := tokenPost(c, code)
		lat = append(lat, time.Since(t0))
		if r.Status != http.StatusSeeOther {
			b.Fatalf("token step failed: %d", r.Status)
		}
	}
	reportLatency(b, lat)
}

// BenchmarkTokenStepParallel runs token steps of many users at once.
func BenchmarkTokenStepParallel(b *testing.B) {
	app := authtest.New(b, authtest.Options{Config: func(c *auth.Config) { c.LoginTimeout = 0 }})
	const users = 16
	secrets := make([]string, users)
	for i := range users {
		name := "u" + strconv.Itoa(i)
		app.User(name, true, false)
		secrets[i] = app.Client().Enrol(name)
	}
	var mu sync.Mutex
	var lat []time.Duration
	b.ResetTimer()
	for done := 0; done < b.N; done += users {
		b.StopTimer()
		app.Clock.Advance(30 * time.Second)
		clients := make([]*authtest.Client, users)
		codes := make([]string, users)
		for i := range clients {
			clients[i] = app.Client()
			clients[i].Password("u"+strconv.Itoa(i), authtest.Password)
			codes[i] = app.Code(secrets[i], 0)
		}
		b.StartTimer()
		authtest.Race(users, func(i int) {
			t0 := time.Now()
			r := tokenPost(clients[i], codes[i])
			d := time.Since(t0)
			if r.Status != http.StatusSeeOther {
				b.Errorf("token step failed: %d", r.Status)
			}
			mu.Lock()
			lat = append(lat, d)
			mu.Unlock()
		})
	}
	reportLatency(b, lat)
}

func reportLatency(b *testing.B, lat []time.Duration) {
	if len(lat) == 0 {
		return
	}
	sort.Slice(lat, func(i, j int) bool { return lat[i] < lat[j] })
	q := func(p float64) float64 { return float64(lat[int(p*float64(len(lat)-1))].Microseconds()) / 1000 }
	b.ReportMetric(q(0.5), "p50-ms")
	b.ReportMetric(q(0.99), "p99-ms")
}

// BenchmarkPasswordHash is argon2id with the production parameters.
func BenchmarkPasswordHash(b *testing.B) {
	h := auth.NewHasher(auth.DefaultArgon2, 0)
	b.ReportAllocs()
	for range b.N {
		if _, err := h.Hash(context.Background(), "correct horse battery"); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkVerifiedSessions keeps 100 verified sessions browsing a guarded
// page and reports the process's resident memory.
func BenchmarkVerifiedSessions(b *testing.B) {
	app := authtest.New(b, authtest.Options{})
	clients := make([]*authtest.Client, 100)
	for i := range clients {
		name := "s" + strconv.Itoa(i)
		app.User(name, true, false)
		clients[i] = app.Client()
		clients[i].Enrol(name)
	}
	b.ResetTimer()
	for done := 0; done < b.N; done += len(clients) {
		authtest.Race(len(clients), func(i int) {
			if r := clients[i].Get("/account/two_factor/"); r.Status != http.StatusOK {
				b.Errorf("verified session lost: %d", r.Status)
			}
		})
	}
	b.StopTimer()
	runtime.GC()
	b.ReportMetric(rssMB(), "rss-MB")
}

func rssMB() float64 {
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return 0
	}
	for _, line := range strings.Split(string(b), "\n") {
		if strings.HasPrefix(line, "VmRSS:") {
			kb, _ := strconv.Atoi(strings.Fields(line)[1])
			return float64(kb) / 1024
		}
	}
	return 0
}
