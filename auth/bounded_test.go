package auth_test

import (
	"fmt"
	"net/http"
	"sort"
	"strings"
	"testing"
	"time"

	"gorm.io/gorm"

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
			fmt.Fprintf(&b, " %s:+%d", n, d)
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
			n = 1500 // the bound must hold all the same; the servers are slower per request
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
