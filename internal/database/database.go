// Package database opens the GORM database a DSN names: a SQLite file path
// (the embedded default), postgres:// or a MySQL DSN (mysql://user:pw@tcp(host)/db).
package database

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"gorm.io/driver/mysql"
	"gorm.io/driver/postgres"
	"gorm.io/driver/sqlite"
	"gorm.io/gorm"
	"gorm.io/gorm/logger"
)

// Kind names the dialect of a DSN: "sqlite", "postgres" or "mysql".
func Kind(dsn string) string {
	switch {
	case strings.HasPrefix(dsn, "postgres://"), strings.HasPrefix(dsn, "postgresql://"):
		return "postgres"
	case strings.HasPrefix(dsn, "mysql://"):
		return "mysql"
	}
	return "sqlite"
}

// Open opens dsn. A SQLite file is created (with its folder) when missing and
// runs in WAL mode with a busy timeout, so concurrent writers wait instead of failing.
func Open(dsn string) (*gorm.DB, error) {
	cfg := &gorm.Config{Logger: logger.Default.LogMode(logger.Silent), TranslateError: true,
		// Every write here is one statement or an explicit transaction.
		SkipDefaultTransaction: true, PrepareStmt: true}
	var dial gorm.Dialector
	switch Kind(dsn) {
	case "postgres":
		dial = postgres.Open(dsn)
	case "mysql":
		d := strings.TrimPrefix(dsn, "mysql://")
		if !strings.Contains(d, "parseTime") {
			d += sep(d) + "parseTime=true"
		}
		dial = mysql.Open(d)
	default:
		if dsn == "" {
			return nil, fmt.Errorf("GATEHOUSE_DB is empty: give a SQLite file path or a postgres:// or mysql:// DSN")
		}
		if !strings.HasPrefix(dsn, "file:") {
			if err := os.MkdirAll(filepath.Dir(dsn), 0o755); err != nil {
				return nil, fmt.Errorf("GATEHOUSE_DB: %w", err)
			}
		}
		d := dsn
		d += sep(d) + "_journal_mode=WAL&_synchronous=NORMAL&_busy_timeout=10000&_foreign_keys=on&_txlock=immediate"
		dial = sqlite.Open(d)
	}
	db, err := gorm.Open(dial, cfg)
	if err != nil {
		return nil, fmt.Errorf("GATEHOUSE_DB: cannot open %s database: %w", Kind(dsn), err)
	}
	sqlDB, err := db.DB()
	if err != nil {
		return nil, err
	}
	if Kind(dsn) == "sqlite" {
		// One writer at a time is SQLite's rule; a small pool keeps readers parallel.
		sqlDB.SetMaxOpenConns(8)
	} else {
		sqlDB.SetMaxOpenConns(32)
	}
	sqlDB.SetConnMaxIdleTime(5 * time.Minute)
	if err := sqlDB.Ping(); err != nil {
		return nil, fmt.Errorf("GATEHOUSE_DB: cannot reach %s database: %w", Kind(dsn), err)
	}
	return db, nil
}

func sep(s string) string {
	if strings.Contains(s, "?") {
		return "&"
	}
	return "?"
}
