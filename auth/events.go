package auth

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/gin-gonic/gin"
	"gorm.io/gorm"

	"github.com/gatehouse/gatehouse/internal/httpx"
	"github.com/gatehouse/gatehouse/internal/locale"
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
	// EventLoginRefused: a pending login or enrolment was refused because
	// the user's devices changed since its password step.
	EventLoginRefused = "login_refused"
	// EventReauthenticated: a verified user confirmed a second factor again
	// for a sensitive action (sudo mode).
	EventReauthenticated = "reauthenticated"
	// EventPasswordChanged: the user changed their own password.
	EventPasswordChanged = "password_changed"
)

// eventMessages maps each kind to its message id; the ids are literal so
// the catalog check finds them.
var eventMessages = map[string]string{
	EventLoginVerified:    "event_login_verified",
	EventLoginRemembered:  "event_login_remembered",
	EventPasswordFailed:   "event_password_failed",
	EventTokenFailed:      "event_token_failed",
	EventThrottled:        "event_throttled",
	EventDeviceAdded:      "event_device_added",
	EventDeviceRemoved:    "event_device_removed",
	EventBackupUsed:       "event_backup_used",
	EventBackupGenerated:  "event_backup_generated",
	EventRememberIssued:   "event_remember_issued",
	EventRememberRefused:  "event_remember_refused",
	EventCounterRegressed: "event_counter_regressed",
	EventLoginRefused:     "event_login_refused",
	EventReauthenticated:  "event_reauthenticated",
	EventPasswordChanged:  "event_password_changed",
}

// EventKinds lists every event kind, in a stable order (for filters).
func EventKinds() []string {
	return []string{EventLoginVerified, EventLoginRemembered, EventPasswordFailed, EventTokenFailed,
		EventThrottled, EventDeviceAdded, EventDeviceRemoved, EventBackupUsed, EventBackupGenerated,
		EventRememberIssued, EventRememberRefused, EventCounterRegressed, EventLoginRefused,
		EventReauthenticated, EventPasswordChanged}
}

// EventText is the kind's translated name ("Signed in"); an unknown kind
// (a method's own) is shown as it is.
func EventText(l *locale.Lang, kind string) string {
	if id, ok := eventMessages[kind]; ok {
		return l.T(id)
	}
	return kind
}

// Event is one entry of the security log. It never holds a token.
type Event struct {
	ID     uint      `gorm:"primaryKey"`
	At     time.Time `gorm:"not null;index"`
	Kind   string    `gorm:"size:32;not null;index"`
	UserID uint      `gorm:"not null;index"` // 0 when the username was unknown
	Device string    `gorm:"size:64"`        // device key, e.g. "generator/3"
	IP     string    `gorm:"size:64"`
	Detail string    `gorm:"size:255"` // plain facts such as a failure count
	// Count is how many times the event happened: anonymous refusals
	// (an unknown or unnamed user's failed or throttled password step)
	// from one address are one row per kind and hour, counted, with At and
	// Detail of the latest.
	Count int `gorm:"column:event_count;not null;default:1"`
}

// TableName is gatehouse_event.
func (Event) TableName() string { return "gatehouse_event" }

// EventFunc is called after an event was recorded. It runs inside the
// request that caused the event: hand slow work (sending mail) to a queue
// or a goroutine.
type EventFunc func(ctx context.Context, e Event)

// OnEvent adds a hook called for every security event. Register hooks
// before serving.
func (s *Service) OnEvent(f EventFunc) { s.events = append(s.events, f) }

type clientIPKey struct{}

// WithClientIP returns ctx carrying the client's IP address, which
// RecordContext puts into events recorded under it.
func WithClientIP(ctx context.Context, ip string) context.Context {
	return context.WithValue(ctx, clientIPKey{}, ip)
}

// requestContext is the request's context carrying the client IP, for
// service calls that record events (DisableTwoFactor, GenerateBackupCodes).
func requestContext(c *gin.Context) context.Context {
	return WithClientIP(c.Request.Context(), c.ClientIP())
}

// Record stores a security event with the request's client IP and calls
// the event hooks. A failure to store is logged, never shown to the user.
// c may be nil outside requests.
func (s *Service) Record(c *gin.Context, e Event) {
	ctx := context.Background()
	if c != nil {
		ctx = c.Request.Context()
		if e.IP == "" {
			e.IP = c.ClientIP()
		}
	}
	s.RecordContext(ctx, e)
}

// RecordContext is Record outside a gin handler (commands, services); the
// IP comes from WithClientIP when ctx carries one.
func (s *Service) RecordContext(ctx context.Context, e Event) {
	e.At = s.clock.Now().UTC()
	if e.IP == "" {
		e.IP, _ = ctx.Value(clientIPKey{}).(string)
	}
	if len(e.Detail) > 255 {
		e.Detail = e.Detail[:255]
	}
	e.Count = 1
	if err := s.storeEvent(ctx, &e); err != nil {
		httpx.Logger(ctx).Error("auth: record event", "kind", e.Kind, "err", err)
	}
	for _, f := range s.events {
		f(ctx, e)
	}
}

// eventWindow is the span one row of aggregated events covers.
const eventWindow = time.Hour

// storeEvent inserts e, or counts it on the row of the same anonymous
// refusal from the same address in this window.
func (s *Service) storeEvent(ctx context.Context, e *Event) error {
	db := s.db.WithContext(ctx)
	if e.UserID == 0 && (e.Kind == EventPasswordFailed || e.Kind == EventThrottled) {
		var id uint
		err := db.Model(&Event{}).Select("id").Where("kind = ? AND user_id = 0 AND ip = ? AND at >= ?",
			e.Kind, e.IP, e.At.Truncate(eventWindow)).Order("id DESC").Limit(1).Scan(&id).Error
		if err != nil {
			return err
		}
		if id != 0 {
			res := db.Model(&Event{}).Where("id = ?", id).
				Updates(map[string]any{"event_count": gorm.Expr("event_count + 1"), "at": e.At, "detail": e.Detail})
			if res.Error != nil || res.RowsAffected == 1 {
				return res.Error
			}
			// Pruned meanwhile: insert a new row.
		}
	}
	return db.Create(e).Error
}

// recordVerifyFailure records a refused second-factor attempt: a wrong
// token, or a throttled one.
func (s *Service) recordVerifyFailure(c *gin.Context, u *User, d Device, err error) {
	var te *ThrottledError
	switch {
	case errors.As(err, &te):
		s.Record(c, Event{Kind: EventThrottled, UserID: u.ID, Device: d.Key(), Detail: throttleDetail(te)})
	case errors.Is(err, ErrInvalidToken):
		s.Record(c, Event{Kind: EventTokenFailed, UserID: u.ID, Device: d.Key()})
	}
}

// recordPasswordThrottled records a password attempt of user uid (0: not
// known or not looked at) refused by the throttle named by what.
func (s *Service) recordPasswordThrottled(c *gin.Context, uid uint, what string, err error) {
	var te *ThrottledError
	if errors.As(err, &te) {
		s.Record(c, Event{Kind: EventThrottled, UserID: uid, Detail: what + "; " + throttleDetail(te)})
	}
}

// userIDByName is the id of the user named username, 0 when there is none.
func (s *Service) userIDByName(c *gin.Context, username string) uint {
	var u User
	if err := s.db.WithContext(c.Request.Context()).Select("id").Where("username = ?", username).Limit(1).Find(&u).Error; err != nil {
		errLog(c, err)
	}
	return u.ID
}

func throttleDetail(te *ThrottledError) string {
	if te.Locked {
		return fmt.Sprintf("locked after %d failures", te.Failures)
	}
	return fmt.Sprintf("%d failures, wait %s", te.Failures, te.Wait.Round(time.Millisecond))
}

// Events returns a user's most recent events, newest first.
func (s *Service) Events(ctx context.Context, userID uint, limit int) ([]Event, error) {
	var out []Event
	err := s.db.WithContext(ctx).Where("user_id = ?", userID).Order("at DESC, id DESC").Limit(clampLimit(limit)).Find(&out).Error
	return out, err
}

// EventFilter narrows AllEvents; zero fields match everything.
type EventFilter struct {
	UserID uint
	Kind   string
}

// AllEvents is the security log of every user for staff, newest first: one
// page of at most limit events (1 to 500) after offset, and how many match.
func (s *Service) AllEvents(ctx context.Context, f EventFilter, limit, offset int) ([]Event, int64, error) {
	q := s.db.WithContext(ctx).Model(&Event{})
	if f.UserID != 0 {
		q = q.Where("user_id = ?", f.UserID)
	}
	if f.Kind != "" {
		q = q.Where("kind = ?", f.Kind)
	}
	var total int64
	if err := q.Count(&total).Error; err != nil {
		return nil, 0, err
	}
	if offset < 0 {
		offset = 0
	}
	var out []Event
	err := q.Order("at DESC, id DESC").Limit(clampLimit(limit)).Offset(offset).Find(&out).Error
	return out, total, err
}

func clampLimit(n int) int {
	switch {
	case n <= 0:
		return 20
	case n > 500:
		return 500
	}
	return n
}
