package session

import (
	"context"
	"errors"
	"time"

	"gorm.io/gorm"
	"gorm.io/gorm/clause"
)

// Record is a session row of the database backend.
type Record struct {
	ID        string    `gorm:"primaryKey;size:64"`
	Data      []byte    `gorm:"not null"`
	ExpiresAt time.Time `gorm:"not null;index"`
}

// TableName is gatehouse_session.
func (Record) TableName() string { return "gatehouse_session" }

// DB keeps sessions in a GORM database.
type DB struct {
	db  *gorm.DB
	now func() time.Time
}

// NewDB returns a database backend; call Migrate once.
func NewDB(db *gorm.DB, now func() time.Time) *DB { return &DB{db: db, now: now} }

// Migrate creates the session table.
func (d *DB) Migrate() error { return d.db.AutoMigrate(&Record{}) }

// Load returns the record unless it has expired.
func (d *DB) Load(ctx context.Context, key string) ([]byte, bool, error) {
	var r Record
	err := d.db.WithContext(ctx).Where("id = ? AND expires_at > ?", key, d.now()).Take(&r).Error
	if errors.Is(err, gorm.ErrRecordNotFound) {
		return nil, false, nil
	}
	return r.Data, err == nil, err
}

// Save upserts the record.
func (d *DB) Save(ctx context.Context, key string, data []byte, expires time.Time) error {
	return d.db.WithContext(ctx).Clauses(clause.OnConflict{
		Columns:   []clause.Column{{Name: "id"}},
		DoUpdates: clause.AssignmentColumns([]string{"data", "expires_at"}),
	}).Create(&Record{ID: key, Data: data, ExpiresAt: expires}).Error
}

// Delete removes the record.
func (d *DB) Delete(ctx context.Context, key string) error {
	return d.db.WithContext(ctx).Where("id = ?", key).Delete(&Record{}).Error
}

// Sweep deletes expired records and returns how many.
func (d *DB) Sweep(ctx context.Context) (int64, error) {
	res := d.db.WithContext(ctx).Where("expires_at <= ?", d.now()).Delete(&Record{})
	return res.RowsAffected, res.Error
}
