package auth

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"strings"
	"time"

	"gorm.io/gorm"
	"gorm.io/gorm/clause"
)

// throttleRow counts consecutive failures under one key, a scope and a
// keyed hash of what is counted (see throttleKey). It lives in the
// database, so every instance sees the same counts.
type throttleRow struct {
	Name     string `gorm:"primaryKey;size:191"`
	Failures int    `gorm:"not null;default:0"`
	NextAt   int64  `gorm:"not null;default:0"` // unix milliseconds
	// ExpiresAt is when Prune may delete the row (unix milliseconds): its
	// wait has passed and it has been idle for its policy's Keep. 0: never
	// (the per-device and per-account counts of real users).
	ExpiresAt int64 `gorm:"not null;default:0;index"`
}

func (throttleRow) TableName() string { return "gatehouse_throttle" }

// Policy says how a throttle key backs off.
type Policy struct {
	Factor   time.Duration // wait Factor*2^(n-1) after n failures (n counted from Free); 0: no wait
	Free     int           // waiting starts after this many failures (0: after the first)
	MaxDelay time.Duration // cap of the wait; 0: one day
	Cap      int           // hard stop after this many failures; 0: none
	// Forgive, when set, undoes only this attempt's count on success
	// instead of resetting the key (used for shared keys such as an IP).
	Forgive bool
	// Keep is how long a row stays after its last attempt and its wait:
	// then Prune forgets it. 0 keeps it for good; only keys bounded by
	// real users and devices may use 0, since anonymous traffic makes
	// new keys at will.
	Keep time.Duration
}

// Throttle key scopes. Every key is made by throttleKey from one of these.
const (
	scopeDevice      = "device"       // a second-factor device's back-off
	scopeAccount     = "account"      // the per-account cap across devices
	scopeLoginUser   = "login-user"   // password step, per username
	scopeLoginIP     = "login-ip"     // password step, per client address
	scopeLoginDevice = "login-device" // password step, per device cookie
	scopeBudget      = "budget"       // Service.Budget's windows
)

// throttleKey is the row name of value under scope: the scope, a slash and
// a keyed hash (HMAC-SHA256 under a key derived from the site secret,
// base64url, 32 characters) of scope and value. Names have a fixed length
// whatever the value (a 10,000-character username, odd bytes), and the
// table holds no usernames or addresses.
func (s *Service) throttleKey(scope, value string) string {
	m := hmac.New(sha256.New, s.keys.throttleMAC)
	m.Write([]byte(scope))
	m.Write([]byte{0})
	m.Write([]byte(value))
	return scope + "/" + base64.RawURLEncoding.EncodeToString(m.Sum(nil))[:32]
}

// accountKey and loginUserKey are the keys an administrator's unlock resets.
func (s *Service) accountKey(uid uint) string {
	return s.throttleKey(scopeAccount, fmt.Sprint(uid))
}

func (s *Service) loginUserKey(username string) string {
	return s.throttleKey(scopeLoginUser, strings.ToLower(username))
}

func (p Policy) delay(n int) time.Duration {
	k := n
	if p.Free > 0 {
		k = n - p.Free + 1
	}
	if p.Factor <= 0 || k <= 0 {
		return 0
	}
	max := p.MaxDelay
	if max <= 0 {
		max = 24 * time.Hour
	}
	if k > 40 {
		return max
	}
	d := p.Factor << (k - 1)
	if d <= 0 || d > max {
		return max
	}
	return d
}

// ThrottledError says an attempt was refused before it was evaluated.
type ThrottledError struct {
	Failures int
	Wait     time.Duration
	Locked   bool // the hard cap was reached: only an administrator unlocks
}

func (e *ThrottledError) Error() string {
	if e.Locked {
		return fmt.Sprintf("locked after %d failures", e.Failures)
	}
	return fmt.Sprintf("throttled after %d failures; retry in %s", e.Failures, e.Wait)
}

// throttle counts every attempt before it is evaluated (a compare-and-set on
// the failure count), so under any concurrency no more attempts are
// evaluated than the policy allows; success gives the count back.
type throttle struct {
	db  *gorm.DB
	now func() time.Time
}

type claim struct {
	key    string
	policy Policy
}

// begin claims one attempt on each key; the first refusal ends the claim.
func (t *throttle) begin(ctx context.Context, claims ...claim) error {
	for _, c := range claims {
		if err := t.claim(ctx, c); err != nil {
			return err
		}
	}
	return nil
}

func (t *throttle) claim(ctx context.Context, c claim) error {
	db := t.db.WithContext(ctx)
	for range 5 {
		var row throttleRow
		if err := db.Where("name = ?", c.key).Limit(1).Find(&row).Error; err != nil {
			return fmt.Errorf("throttle: %w", err)
		}
		if row.Name == "" {
			// First attempt on this key: create the row, then read it again.
			fresh := &throttleRow{Name: c.key, ExpiresAt: c.policy.expiry(t.now().UnixMilli(), 0)}
			if err := db.Clauses(clause.OnConflict{DoNothing: true}).Create(fresh).Error; err != nil {
				return fmt.Errorf("throttle: %w", err)
			}
			continue
		}
		now := t.now().UnixMilli()
		if c.policy.Cap > 0 && row.Failures >= c.policy.Cap {
			return &ThrottledError{Failures: row.Failures, Locked: true}
		}
		if now < row.NextAt {
			return &ThrottledError{Failures: row.Failures, Wait: time.Duration(row.NextAt-now) * time.Millisecond}
		}
		n := row.Failures + 1
		next := now + c.policy.delay(n).Milliseconds()
		res := db.Model(&throttleRow{}).Where("name = ? AND failures = ?", c.key, row.Failures).
			Updates(map[string]any{"failures": n, "next_at": next, "expires_at": c.policy.expiry(now, next)})
		if res.Error != nil {
			return fmt.Errorf("throttle: %w", res.Error)
		}
		if res.RowsAffected == 1 {
			return nil
		}
	}
	// Another attempt keeps winning the race: refuse rather than evaluate.
	return &ThrottledError{Wait: time.Second}
}

// succeed gives back the attempts claimed on keys after a success.
func (t *throttle) succeed(ctx context.Context, claims ...claim) error {
	var errs []error
	var resets []string
	db := t.db.WithContext(ctx)
	for _, c := range claims {
		if c.policy.Forgive {
			errs = append(errs, db.Model(&throttleRow{}).Where("name = ? AND failures > 0", c.key).
				Update("failures", gorm.Expr("failures - 1")).Error)
			continue
		}
		resets = append(resets, c.key)
	}
	if len(resets) > 0 {
		errs = append(errs, db.Model(&throttleRow{}).Where("name IN ?", resets).
			Updates(map[string]any{"failures": 0, "next_at": 0}).Error)
	}
	return errors.Join(errs...)
}

// expiry is the ExpiresAt of a row claimed at now that waits until next.
func (p Policy) expiry(now, next int64) int64 {
	if p.Keep <= 0 {
		return 0
	}
	return max(now, next) + p.Keep.Milliseconds()
}

// prune deletes the rows that carry nothing any more: expired ones, and
// ones back at zero with no wait (the same as no row).
func (t *throttle) prune(ctx context.Context) (int64, error) {
	now := t.now().UnixMilli()
	res := t.db.WithContext(ctx).
		Where("(expires_at > 0 AND expires_at <= ?) OR (failures = 0 AND next_at <= ?)", now, now).
		Delete(&throttleRow{})
	return res.RowsAffected, res.Error
}

func (t *throttle) reset(ctx context.Context, key string) error {
	return t.db.WithContext(ctx).Model(&throttleRow{}).Where("name = ?", key).
		Updates(map[string]any{"failures": 0, "next_at": 0}).Error
}

// state reads a key's count without claiming anything.
func (t *throttle) state(ctx context.Context, key string) (throttleRow, error) {
	var row throttleRow
	err := t.db.WithContext(ctx).Where("name = ?", key).Limit(1).Find(&row).Error
	return row, err
}

// rehashThrottle moves rows named before keys were hashed ("account/7",
// "device/generator/3", "login-user/alice") to their hashed names, so an
// upgrade keeps the per-device and per-account counts (an account locked
// at the cap stays locked). The old password-step and budget counts are
// short-lived and dropped. Rows of those scopes never have ExpiresAt 0
// since, so the legacy ones are found by it; safe on concurrent starts.
func (s *Service) rehashThrottle(ctx context.Context) error {
	db := s.db.WithContext(ctx)
	var rows []throttleRow
	if err := db.Where("expires_at = 0").Find(&rows).Error; err != nil {
		return err
	}
	for _, r := range rows {
		scope, value, _ := strings.Cut(r.Name, "/")
		hashed := (scope == scopeDevice || scope == scopeAccount) && len(value) == 32 && !strings.Contains(value, "/")
		if hashed {
			continue
		}
		if (scope == scopeDevice || scope == scopeAccount) && r.Failures > 0 {
			// The higher count wins where the hashed row exists already.
			moved := throttleRow{Name: s.throttleKey(scope, value), Failures: r.Failures, NextAt: r.NextAt}
			if err := db.Clauses(clause.OnConflict{DoNothing: true}).Create(&moved).Error; err != nil {
				return err
			}
			if err := db.Model(&throttleRow{}).Where("name = ? AND failures < ?", moved.Name, moved.Failures).
				Updates(map[string]any{"failures": moved.Failures, "next_at": moved.NextAt}).Error; err != nil {
				return err
			}
		}
		if err := db.Where("name = ?", r.Name).Delete(&throttleRow{}).Error; err != nil {
			return err
		}
	}
	return nil
}
