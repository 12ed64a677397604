package auth

import (
	"context"
	"log/slog"
	"time"

	"github.com/gin-gonic/gin"
)

// Event kinds of the security log.
const (
	EventLoginVerified    = "login_verified"
	EventLoginRemembered  = "login_remembered"
	EventPasswordFailed   = "password_failed"
	EventTokenFailed      = "token_failed"
	EventThrottled        = "throttled"
	EventDeviceAdded      = "device_added"
	EventDeviceRemoved    = "device_removed"
	EventBackupUsed       = "backup_used"
	EventBackupGenerated  = "backup_generated"
	EventRememberIssued   = "remember_issued"
	EventRememberRefused  = "remember_refused"
	EventCounterRegressed = "counter_regressed"
)

// Event is one entry of the security log. It never holds a token.
type Event struct {
	ID     uint      `gorm:"primaryKey"`
	At     time.Time `gorm:"not null;index"`
	Kind   string    `gorm:"size:32;not null;index"`
	UserID uint      `gorm:"not null;index"` // 0 when the username was unknown
	Device string    `gorm:"size:64"`        // device key, e.g. "generator/3"
	IP     string    `gorm:"size:64"`
	Detail string    `gorm:"size:255"` // plain facts such as a failure count
}

// TableName is gatehouse_event.
func (Event) TableName() string { return "gatehouse_event" }

// EventFunc is called after an event was recorded.
type EventFunc func(ctx context.Context, e Event)

// OnEvent adds a hook called for every security event.
func (s *Service) OnEvent(f EventFunc) { s.events = append(s.events, f) }

// Record stores a security event and calls the event hooks. A failure to
// store is logged, never shown to the user.
func (s *Service) Record(c *gin.Context, e Event) {
	e.At = s.clock.Now()
	if c != nil && e.IP == "" {
		e.IP = c.ClientIP()
	}
	ctx := context.Background()
	if c != nil {
		ctx = c.Request.Context()
	}
	if err := s.db.WithContext(ctx).Create(&e).Error; err != nil {
		slog.Error("auth: record event", "kind", e.Kind, "err", err)
	}
	for _, f := range s.events {
		f(ctx, e)
	}
}

// Events returns a user's most recent events, newest first.
func (s *Service) Events(ctx context.Context, userID uint, limit int) ([]Event, error) {
	var out []Event
	err := s.db.WithContext(ctx).Where("user_id = ?", userID).Order("at DESC, id DESC").Limit(limit).Find(&out).Error
	return out, err
}
