package auth

import (
	"context"
	"crypto/rand"
	"fmt"
	"strings"
	"time"

	"gorm.io/gorm"

	"github.com/gatehouse/gatehouse/internal/locale"
)

// StaticDevice holds a user's backup codes (the seed's StaticDevice).
type StaticDevice struct {
	ID        uint   `gorm:"primaryKey"`
	UserID    uint   `gorm:"not null;uniqueIndex"`
	Name      string `gorm:"size:64;not null;default:backup"`
	CreatedAt time.Time

	method *backupMethod `gorm:"-"`
}

// TableName is otp_static_device.
func (StaticDevice) TableName() string { return "otp_static_device" }

// StaticToken is one backup code, stored as a keyed hash only.
type StaticToken struct {
	ID       uint   `gorm:"primaryKey"`
	DeviceID uint   `gorm:"not null;index:idx_static_token,unique"`
	Hash     string `gorm:"size:64;not null;index:idx_static_token,unique" json:"-"`
}

// TableName is otp_static_token.
func (StaticToken) TableName() string { return "otp_static_token" }

type backupMethod struct{ s *Service }

func (m *backupMethod) Code() string               { return "backup" }
func (m *backupMethod) Name(l *locale.Lang) string { return l.T("method_backup") }
func (m *backupMethod) Primary() bool              { return false }
func (m *backupMethod) Models() []any              { return []any{&StaticDevice{}, &StaticToken{}} }

// Devices returns the backup device only while it has codes left.
func (m *backupMethod) Devices(ctx context.Context, userID uint) ([]Device, error) {
	var d StaticDevice
	err := m.s.db.WithContext(ctx).Where("user_id = ?", userID).Limit(1).Find(&d).Error
	if err != nil || d.ID == 0 {
		return nil, err
	}
	n, err := m.count(ctx, d.ID)
	if err != nil || n == 0 {
		return nil, err
	}
	d.method = m
	return []Device{&d}, nil
}

func (m *backupMethod) count(ctx context.Context, deviceID uint) (int64, error) {
	var n int64
	err := m.s.db.WithContext(ctx).Model(&StaticToken{}).Where("device_id = ?", deviceID).Count(&n).Error
	return n, err
}

func (m *backupMethod) DeleteAll(ctx context.Context, tx *gorm.DB, userID uint) error {
	sub := tx.Model(&StaticDevice{}).Select("id").Where("user_id = ?", userID)
	if err := tx.WithContext(ctx).Where("device_id IN (?)", sub).Delete(&StaticToken{}).Error; err != nil {
		return err
	}
	return tx.WithContext(ctx).Where("user_id = ?", userID).Delete(&StaticDevice{}).Error
}

// BackupCount is how many backup codes the user has left.
func (s *Service) BackupCount(ctx context.Context, userID uint) (int64, error) {
	var n int64
	err := s.db.WithContext(ctx).Model(&StaticToken{}).
		Where("device_id IN (?)", s.db.Model(&StaticDevice{}).Select("id").Where("user_id = ?", userID)).
		Count(&n).Error
	return n, err
}

// backupAlphabet avoids look-alikes (0/o, 1/l/i).
const backupAlphabet = "abcdefghjkmnpqrstuvwxyz23456789"

const backupLen = 8

// GenerateBackupCodes replaces the user's backup codes with a fresh set and
// returns them; only their hashes are stored, so this is the one time they
// can be shown.
func (s *Service) GenerateBackupCodes(ctx context.Context, userID uint) ([]string, error) {
	codes := make([]string, s.cfg.BackupTokens)
	for i := range codes {
		codes[i] = randomCode(backupAlphabet, backupLen)
	}
	err := s.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		var d StaticDevice
		if err := tx.Where("user_id = ?", userID).Limit(1).Find(&d).Error; err != nil {
			return err
		}
		if d.ID == 0 {
			d = StaticDevice{UserID: userID, Name: "backup"}
			if err := tx.Create(&d).Error; err != nil {
				return err
			}
		}
		if err := tx.Where("device_id = ?", d.ID).Delete(&StaticToken{}).Error; err != nil {
			return err
		}
		rows := make([]StaticToken, len(codes))
		for i, c := range codes {
			rows[i] = StaticToken{DeviceID: d.ID, Hash: mac(s.keys.backupMAC, fmt.Sprint(d.ID), c)}
		}
		return tx.Create(&rows).Error
	})
	if err != nil {
		return nil, err
	}
	s.RecordContext(ctx, Event{Kind: EventBackupGenerated, UserID: userID, Detail: fmt.Sprintf("%d codes", len(codes))})
	return codes, nil
}

func randomCode(alphabet string, n int) string {
	b := make([]byte, n)
	for i := range b {
		b[i] = alphabet[randIntn(len(alphabet))]
	}
	return string(b)
}

func randIntn(n int) int {
	// Rejection sampling over one byte keeps the choice uniform.
	limit := 256 - 256%n
	var buf [1]byte
	for {
		if _, err := rand.Read(buf[:]); err != nil {
			panic(err)
		}
		if int(buf[0]) < limit {
			return int(buf[0]) % n
		}
	}
}

// canonicalBackup lower-cases a code and drops spaces and dashes; anything
// outside the alphabet makes it no code at all.
func canonicalBackup(token string) (string, bool) {
	t := strings.Map(func(r rune) rune {
		switch {
		case r == ' ' || r == '-' || r == '\t':
			return -1
		case r >= 'A' && r <= 'Z':
			return r + 'a' - 'A'
		}
		return r
	}, token)
	if len(t) != backupLen {
		return "", false
	}
	for i := 0; i < len(t); i++ {
		if !strings.ContainsRune(backupAlphabet, rune(t[i])) {
			return "", false
		}
	}
	return t, true
}

func (d *StaticDevice) Key() string                      { return fmt.Sprintf("backup/%d", d.ID) }
func (d *StaticDevice) MethodCode() string               { return "backup" }
func (d *StaticDevice) Label(l *locale.Lang) string      { return l.T("device_backup") }
func (d *StaticDevice) ActionText(l *locale.Lang) string { return l.T("action_backup") }
func (d *StaticDevice) ThrottleFactor() time.Duration    { return d.method.s.cfg.StaticThrottleFactor }

// VerifyToken consumes a backup code with a conditional DELETE: of two
// requests with the same code, exactly one deletes the row.
func (d *StaticDevice) VerifyToken(ctx context.Context, token string) (bool, error) {
	code, ok := canonicalBackup(token)
	if !ok {
		return false, nil
	}
	res := d.method.s.db.WithContext(ctx).
		Where("device_id = ? AND hash = ?", d.ID, mac(d.method.s.keys.backupMAC, fmt.Sprint(d.ID), code)).
		Delete(&StaticToken{})
	return res.RowsAffected == 1, res.Error
}
