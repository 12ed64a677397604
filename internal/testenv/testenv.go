// Package testenv provisions the databases and Redis prefixes tests run
// against: SQLite always; PostgreSQL, MySQL and Redis when their
// GATEHOUSE_TEST_* variables are set. With GATEHOUSE_TEST_REQUIRE_SERVICES=1
// a missing service fails instead of skipping. Every run creates its own
// database with a random suffix and drops it at the end.
package testenv

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/redis/go-redis/v9"
	"gorm.io/gorm"

	"github.com/gatehouse/gatehouse/internal/database"
)

// DB is one database a suite runs against.
type DB struct {
	Name string // "sqlite", "postgres", "mysql"
	DSN  string
}

func suffix() string {
	b := make([]byte, 6)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

func required() bool { return os.Getenv("GATEHOUSE_TEST_REQUIRE_SERVICES") == "1" }

// DBs lists the databases to run a suite against.
func DBs(t testing.TB) []DB {
	out := []DB{{Name: "sqlite"}}
	for _, v := range []struct{ name, env string }{{"postgres", "GATEHOUSE_TEST_POSTGRES_DSN"}, {"mysql", "GATEHOUSE_TEST_MYSQL_DSN"}} {
		dsn := os.Getenv(v.env)
		if dsn == "" {
			if required() {
				t.Fatalf("%s is not set and GATEHOUSE_TEST_REQUIRE_SERVICES=1", v.env)
			}
			continue
		}
		out = append(out, DB{Name: v.name, DSN: dsn})
	}
	return out
}

// Open creates a fresh database for d and opens it; it is dropped when the
// test ends.
func Open(t testing.TB, d DB) *gorm.DB {
	t.Helper()
	name := "gh_test_" + suffix()
	var dsn string
	switch d.Name {
	case "sqlite":
		dsn = filepath.Join(t.TempDir(), "test.db")
	case "postgres":
		admin := mustOpen(t, d.DSN)
		exec(t, admin, "CREATE DATABASE "+name)
		dsn = replaceDBName(d.DSN, name)
		t.Cleanup(func() {
			exec(t, admin, "DROP DATABASE IF EXISTS "+name+" WITH (FORCE)")
			closeDB(admin)
		})
	case "mysql":
		admin := mustOpen(t, d.DSN)
		exec(t, admin, "CREATE DATABASE "+name+" CHARACTER SET utf8mb4 COLLATE utf8mb4_bin")
		dsn = replaceDBName(d.DSN, name)
		t.Cleanup(func() {
			exec(t, admin, "DROP DATABASE IF EXISTS "+name)
			closeDB(admin)
		})
	default:
		t.Fatalf("unknown database %q", d.Name)
	}
	db := mustOpen(t, dsn)
	t.Cleanup(func() { closeDB(db) })
	return db
}

func mustOpen(t testing.TB, dsn string) *gorm.DB {
	t.Helper()
	db, err := database.Open(dsn)
	if err != nil {
		t.Fatalf("open %s: %v", database.Kind(dsn), err)
	}
	return db
}

func exec(t testing.TB, db *gorm.DB, sql string) {
	if err := db.Exec(sql).Error; err != nil {
		t.Errorf("%s: %v", sql, err)
	}
}

func closeDB(db *gorm.DB) {
	if s, err := db.DB(); err == nil {
		s.Close()
	}
}

// replaceDBName swaps the database name in a postgres:// or mysql:// DSN:
// the path segment after the host.
func replaceDBName(dsn, name string) string {
	q := ""
	if i := strings.IndexByte(dsn, '?'); i >= 0 {
		dsn, q = dsn[:i], dsn[i:]
	}
	i := strings.LastIndexByte(dsn, '/')
	if i < strings.Index(dsn, "://")+3 {
		return dsn + "/" + name + q
	}
	return dsn[:i+1] + name + q
}

// Redis returns a Redis URL and a unique key prefix, or skips (or fails
// when services are required) without GATEHOUSE_TEST_REDIS_ADDR. Keys under
// the prefix are deleted when the test ends.
func Redis(t testing.TB) (url, prefix string) {
	addr := os.Getenv("GATEHOUSE_TEST_REDIS_ADDR")
	if addr == "" {
		if required() {
			t.Fatal("GATEHOUSE_TEST_REDIS_ADDR is not set and GATEHOUSE_TEST_REQUIRE_SERVICES=1")
		}
		t.Skip("GATEHOUSE_TEST_REDIS_ADDR not set")
	}
	url = "redis://" + addr + "/0"
	prefix = fmt.Sprintf("gh_test_%s:", suffix())
	t.Cleanup(func() {
		opt, err := redis.ParseURL(url)
		if err != nil {
			return
		}
		c := redis.NewClient(opt)
		defer c.Close()
		ctx := context.Background()
		iter := c.Scan(ctx, 0, prefix+"*", 100).Iterator()
		for iter.Next(ctx) {
			c.Del(ctx, iter.Val())
		}
	})
	return url, prefix
}
