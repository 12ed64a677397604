package auth

import (
	"context"
	"crypto/rand"
	"crypto/subtle"
	"encoding/base32"
	"fmt"
	"strings"
	"time"

	"github.com/pquerna/otp"
	"github.com/pquerna/otp/hotp"
	"github.com/pquerna/otp/totp"
	"gorm.io/gorm"

	"github.com/gatehouse/gatehouse/internal/locale"
)

// TOTPDevice is an authenticator app (RFC 6238). Its key is encrypted at
// rest; LastT is the replay watermark: the last time step accepted.
type TOTPDevice struct {
	ID        uint   `gorm:"primaryKey"`
	UserID    uint   `gorm:"not null;index"`
	Name      string `gorm:"size:64;not null;default:default"`
	Confirmed bool   `gorm:"not null;default:false"`
	SealedKey []byte `gorm:"not null" json:"-"`
	Digits    int    `gorm:"not null;default:6"`
	Step      int    `gorm:"not null;default:30"`
	T0        int64  `gorm:"not null;default:0"`
	Tolerance int    `gorm:"not null;default:1"`
	Drift     int    `gorm:"not null;default:0"`
	LastT     int64  `gorm:"not null;default:-1"`
	CreatedAt time.Time

	method *totpMethod `gorm:"-"`
}

// TableName is otp_totp_device.
func (TOTPDevice) TableName() string { return "otp_totp_device" }

type totpMethod struct{ s *Service }

func (m *totpMethod) Code() string               { return "generator" }
func (m *totpMethod) Name(l *locale.Lang) string { return l.T("method_generator") }
func (m *totpMethod) Primary() bool              { return true }
func (m *totpMethod) Models() []any              { return []any{&TOTPDevice{}} }
func (m *totpMethod) SetupStep() string          { return "generator" }
func (m *totpMethod) TokenField() string         { return "generator-token" }

func (m *totpMethod) Devices(ctx context.Context, userID uint) ([]Device, error) {
	var rows []TOTPDevice
	if err := m.s.db.WithContext(ctx).Where("user_id = ? AND confirmed = ?", userID, true).Order("id").Find(&rows).Error; err != nil {
		return nil, err
	}
	out := make([]Device, len(rows))
	for i := range rows {
		rows[i].method = m
		out[i] = &rows[i]
	}
	return out, nil
}

func (m *totpMethod) DeleteAll(ctx context.Context, tx *gorm.DB, userID uint) error {
	return tx.WithContext(ctx).Where("user_id = ?", userID).Delete(&TOTPDevice{}).Error
}

func sealContext(code string, userID uint) string { return fmt.Sprintf("%s/%d", code, userID) }

func (m *totpMethod) BeginSetup(ctx context.Context, u *User) (uint, error) {
	key := make([]byte, 20)
	if _, err := rand.Read(key); err != nil {
		return 0, err
	}
	d := TOTPDevice{UserID: u.ID, Name: "default", SealedKey: m.s.keys.seal(key, sealContext("totp", u.ID)),
		Digits: m.s.cfg.TOTPDigits, Step: 30, Tolerance: 1, LastT: -1}
	err := m.s.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		// One pending secret at a time: a new one replaces the old.
		if err := tx.Where("user_id = ? AND confirmed = ?", u.ID, false).Delete(&TOTPDevice{}).Error; err != nil {
			return err
		}
		return tx.Create(&d).Error
	})
	return d.ID, err
}

func (m *totpMethod) pending(ctx context.Context, u *User, id uint) (*TOTPDevice, error) {
	var d TOTPDevice
	err := m.s.db.WithContext(ctx).Where("id = ? AND user_id = ? AND confirmed = ?", id, u.ID, false).Take(&d).Error
	if err != nil {
		return nil, err
	}
	d.method = m
	return &d, nil
}

func (m *totpMethod) PendingDevice(ctx context.Context, u *User, id uint) (Device, error) {
	return m.pending(ctx, u, id)
}

// TOTPSetup is the generator step's template data.
type TOTPSetup struct {
	Secret string // base32, grouped by four for reading
	URL    string // otpauth:// URL
	Digits int
}

func (m *totpMethod) SetupView(ctx context.Context, u *User, id uint) (any, error) {
	d, err := m.pending(ctx, u, id)
	if err != nil {
		return nil, err
	}
	url, secret, err := d.provisioning(u.Username)
	if err != nil {
		return nil, err
	}
	return &TOTPSetup{Secret: group4(secret), URL: url, Digits: d.Digits}, nil
}

func (m *totpMethod) Confirm(ctx context.Context, tx *gorm.DB, u *User, id uint) error {
	res := tx.WithContext(ctx).Model(&TOTPDevice{}).Where("id = ? AND user_id = ? AND confirmed = ?", id, u.ID, false).
		Update("confirmed", true)
	if res.Error != nil {
		return res.Error
	}
	if res.RowsAffected != 1 {
		return gorm.ErrRecordNotFound
	}
	return nil
}

// provisioning returns the otpauth URL and base32 secret, through pquerna/otp.
func (d *TOTPDevice) provisioning(account string) (url, secret string, err error) {
	key, err := d.key()
	if err != nil {
		return "", "", err
	}
	k, err := totp.Generate(totp.GenerateOpts{
		Issuer: d.method.s.cfg.TOTPIssuer, AccountName: account, Period: uint(d.Step),
		Secret: key, Digits: otp.Digits(d.Digits), Algorithm: otp.AlgorithmSHA1,
	})
	if err != nil {
		return "", "", err
	}
	return k.URL(), k.Secret(), nil
}

func group4(s string) string {
	var b strings.Builder
	for i, r := range s {
		if i > 0 && i%4 == 0 {
			b.WriteByte(' ')
		}
		b.WriteRune(r)
	}
	return b.String()
}

func (d *TOTPDevice) key() ([]byte, error) {
	return d.method.s.keys.open(d.SealedKey, sealContext("totp", d.UserID))
}

func (d *TOTPDevice) Key() string                      { return fmt.Sprintf("generator/%d", d.ID) }
func (d *TOTPDevice) MethodCode() string               { return "generator" }
func (d *TOTPDevice) Label(l *locale.Lang) string      { return l.T("device_generator") }
func (d *TOTPDevice) ActionText(l *locale.Lang) string { return l.T("action_generator") }
func (d *TOTPDevice) ThrottleFactor() time.Duration    { return d.method.s.cfg.TOTPThrottleFactor }

// CanonicalDigits returns token as exactly n ASCII digits, after removing
// spaces; anything else (other scripts' digits, letters) is not a token.
func CanonicalDigits(token string, n int) (string, bool) {
	t := strings.Map(func(r rune) rune {
		if r == ' ' || r == '\t' || r == '-' {
			return -1
		}
		return r
	}, token)
	if len(t) != n {
		return "", false
	}
	for i := 0; i < len(t); i++ {
		if t[i] < '0' || t[i] > '9' {
			return "", false
		}
	}
	return t, true
}

// VerifyToken accepts a code for a time step within the tolerance that is
// later than the watermark, then moves the watermark with a conditional
// UPDATE: of two requests with the same code, exactly one wins.
func (d *TOTPDevice) VerifyToken(ctx context.Context, token string) (bool, error) {
	code, ok := CanonicalDigits(token, d.Digits)
	if !ok {
		return false, nil
	}
	key, err := d.key()
	if err != nil {
		return false, err
	}
	secret := base32.StdEncoding.WithPadding(base32.NoPadding).EncodeToString(key)
	now := d.method.s.clock.Now().Unix()
	t := (now - d.T0) / int64(d.Step)
	for off := -d.Tolerance; off <= d.Tolerance; off++ {
		step := t + int64(d.Drift) + int64(off)
		if step <= d.LastT || step < 0 {
			continue
		}
		want, err := hotp.GenerateCodeCustom(secret, uint64(step), hotp.ValidateOpts{Digits: otp.Digits(d.Digits), Algorithm: otp.AlgorithmSHA1})
		if err != nil {
			return false, err
		}
		if subtle.ConstantTimeCompare([]byte(want), []byte(code)) != 1 {
			continue
		}
		// Drift learning: a code from a neighbouring step moves the centre.
		drift := d.Drift + off
		res := d.method.s.db.WithContext(ctx).Model(&TOTPDevice{}).
			Where("id = ? AND last_t < ?", d.ID, step).
			Updates(map[string]any{"last_t": step, "drift": drift})
		if res.Error != nil {
			return false, res.Error
		}
		if res.RowsAffected != 1 {
			return false, nil // replayed: another request took this step
		}
		d.LastT, d.Drift = step, drift
		return true, nil
	}
	return false, nil
}
