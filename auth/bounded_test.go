package auth_test

import (
	"fmt"
	"net/http"
	"sort"
	"strings"
	"testing"
	"time"

	"gorm.io/gorm"

	"github.com/gatehouse/gatehouse/auth"
	"github.com/gatehouse/gatehouse/auth/authtest"
)

// tableRows counts the rows of every table in the database.
func tableRows(t *testing.T, db *gorm.DB) map[string]int64 {
	t.Helper()
	tables, err := db.Migrator().GetTables()
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]int64{}
	for _, name := range tables {
		var n int64
		if err := db.Table(name).Count(&n).Error; err != nil {
			t.Fatalf("count %s: %v", name, err)
		}
		out[name] = n
	}
	return out
}

func rowGrowth(before, after map[string]int64) string {
	var names []string
	for n := range after {
		names = append(names, n)
	}
	sort.Strings(names)
	var b strings.Builder
	for _, n := range names {
		if d := after[n] - before[n]; d != 0 {
			fmt.Fprintf(&b, " %s:%+d", n, d)
		}
	}
	return b.String()
}

// TestAnonymousTrafficBounded: refused logins with fresh usernames from
// one address, one second apart, add at most 100 rows to any table.
func TestAnonymousTrafficBounded(t *testing.T) {
	forEachDB(t, func(t *testing.T, o authtest.Options) {
		n := 5000
		if o.DB.Name != "sqlite" || testing.Short() {
			n = 500 // the servers are slower per request; the bound holds all the same
		}
		app := authtest.New(t, o)
		app.User("ana", true, false)
		app.Client().Enrol("ana")
		before := tableRows(t, app.DB)
		c := app.Client()
		for i := range n {
			r := c.Password(fmt.Sprintf("nobody-%d", i), "wrong password")
			if r.Status != http.StatusOK {
				t.Fatalf("request %d: status %d, want 200 (the form with its error)", i, r.Status)
			}
			app.Clock.Advance(time.Second)
		}
		after := tableRows(t, app.DB)
		t.Logf("%d refused logins added:%s", n, rowGrowth(before, after))
		for name, rows := range after {
			if d := rows - before[name]; d > 100 {
				t.Errorf("%s grew by %d rows, want at most 100", name, d)
			}
		}
	})
}

// TestPrune: with the clock past their windows, Prune deletes anonymous
// throttle rows, expired sessions and links, and old events, and keeps a
// real user's second-factor lock.
func TestPrune(t *testing.T) {
	forEachDB(t, func(t *testing.T, o authtest.Options) {
		o.Config = func(c *auth.Config) { c.TOTPThrottleFactor, c.StaticThrottleFactor, c.AccountFailureCap = 0, 0, 3 }
		app := authtest.New(t, o)
		ctx := t.Context()
		app.User("ana", true, false)
		app.User("bob", true, false)
		secret := app.Client().Enrol("ana")
		bobSecret := app.Client().Enrol("bob")
		locked := app.Client()
		locked.Password("bob", authtest.Password)
		for range 3 {
			tokenPost(locked, "000000")
		}
		if _, err := app.Service.BootstrapLink(ctx); err != nil {
			t.Fatal(err)
		}
		c := app.Client()
		for i := range 60 {
			c.Password(fmt.Sprintf("nobody-%d", i), "wrong password")
		}
		before := tableRows(t, app.DB)
		if before["gatehouse_session"] == 0 || before["gatehouse_throttle"] < 50 || before["gatehouse_event"] == 0 {
			t.Fatalf("nothing to prune: %v", before)
		}

		// Only rows back at zero (after the logins) carry nothing yet.
		if r, err := app.Service.Prune(ctx); err != nil || r.Throttle > 4 || r.Sessions != 0 || r.Events != 0 || r.Pending != 0 {
			t.Fatalf("nothing has expired yet, Prune deleted %s (%v)", r, err)
		}
		before = tableRows(t, app.DB)
		app.Clock.Advance(25 * time.Hour)
		r, err := app.Service.Prune(ctx)
		if err != nil {
			t.Fatal(err)
		}
		after := tableRows(t, app.DB)
		t.Logf("after a day: %s; rows%s", r, rowGrowth(before, after))
		if after["gatehouse_session"] != 0 || after["auth_bootstrap_token"] != 0 || r.Pending == 0 {
			t.Errorf("expired sessions and links stay: %v", after)
		}
		if after["gatehouse_throttle"] > 2 {
			t.Errorf("%d throttle rows stay a day later; only bob's device and account counts should", after["gatehouse_throttle"])
		}
		if after["gatehouse_event"] != before["gatehouse_event"] {
			t.Errorf("events within the retention were pruned")
		}
		assertLocked := func() {
			t.Helper()
			b := app.Client()
			b.Password("bob", authtest.Password)
			if r := tokenPost(b, app.Code(bobSecret, 0)); r.Status != http.StatusOK || !strings.Contains(r.Body, "locked") {
				t.Fatalf("bob's account lock must survive pruning: %d", r.Status)
			}
		}
		assertLocked()

		app.Clock.Advance(91 * 24 * time.Hour)
		if r, err = app.Service.Prune(ctx); err != nil || r.Events == 0 {
			t.Fatalf("events older than the retention stay: %s (%v)", r, err)
		}
		var old int64
		app.DB.Model(&auth.Event{}).Where("at < ?", app.Clock.Now().Add(-90*24*time.Hour)).Count(&old)
		if old != 0 {
			t.Errorf("%d events older than 90 days after Prune", old)
		}
		assertLocked()
		app.Client().Login("ana", secret, 0)
	})
}
