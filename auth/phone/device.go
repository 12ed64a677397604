package phone

import (
	"context"
	"crypto/subtle"
	"encoding/base32"
	"fmt"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/pquerna/otp"
	"github.com/pquerna/otp/hotp"

	"github.com/gatehouse/gatehouse/auth"
	"github.com/gatehouse/gatehouse/internal/locale"
)

// Device is a phone that receives codes (the seed's PhoneDevice). Its key
// is sealed at rest. Counter numbers the latest code (0: none yet),
// IssuedAt is when that code was made, and UsedCounter is the single-use
// watermark: the latest counter whose code was accepted.
type Device struct {
	ID          uint   `gorm:"primaryKey"`
	UserID      uint   `gorm:"not null;index"`
	Name        string `gorm:"size:16;not null"` // "default" or "backup"
	Method      string `gorm:"size:8;not null"`  // "sms" or "call"
	Number      string `gorm:"size:32;not null"` // E.164; "" until the setup step
	Confirmed   bool   `gorm:"not null;default:false"`
	SealedKey   []byte `gorm:"not null" json:"-"`
	Digits      int    `gorm:"not null;default:6"`
	Counter     int64  `gorm:"not null;default:0"`
	IssuedAt    int64  `gorm:"not null;default:0"` // unix milliseconds
	UsedCounter int64  `gorm:"not null;default:0"`
	CreatedAt   time.Time

	p *Phones `gorm:"-"`
}

// TableName is two_factor_phonedevice, the seed's table.
func (Device) TableName() string { return "two_factor_phonedevice" }

func sealContext(userID uint) string { return fmt.Sprintf("phone/%d", userID) }

// Key is "sms/<id>" or "call/<id>".
func (d *Device) Key() string { return fmt.Sprintf("%s/%d", d.Method, d.ID) }

// MethodCode is "sms" or "call".
func (d *Device) MethodCode() string { return d.Method }

// Label names the phone inside sentences: "phone +31 ** *** **67 (text message)".
func (d *Device) Label(l *locale.Lang) string {
	masked := isolate(l, MaskNumber(d.Number))
	if d.Method == MethodCall {
		return l.T("phone_device_call", "Number", masked)
	}
	return l.T("phone_device_sms", "Number", masked)
}

// ActionText is the login button that picks the phone.
func (d *Device) ActionText(l *locale.Lang) string { return DeviceAction(l, d) }

// ThrottleFactor is GATEHOUSE_PHONE_THROTTLE_FACTOR.
func (d *Device) ThrottleFactor() time.Duration { return d.p.cfg.ThrottleFactor }

// Alternate reports a backup phone, which is never preferred as a user's
// default device over their own choice (see auth.Alternate).
func (d *Device) Alternate() bool { return d.Name == NameBackup }

// Challenge sends a code when the login asks for this phone.
func (d *Device) Challenge(c *gin.Context, u *auth.User) error { return d.p.send(c, u, d) }

// code is the device's code for counter: HOTP (RFC 4226) of its key.
func (d *Device) code(counter int64) (string, error) {
	key, err := d.p.s.Open(d.SealedKey, sealContext(d.UserID))
	if err != nil {
		return "", err
	}
	secret := base32.StdEncoding.WithPadding(base32.NoPadding).EncodeToString(key)
	return hotp.GenerateCodeCustom(secret, uint64(counter), hotp.ValidateOpts{Digits: otp.Digits(d.Digits), Algorithm: otp.AlgorithmSHA1})
}

// VerifyToken accepts the latest code sent, once, while it is valid. The
// row is read again (a send earlier in the same request may have made a
// new code), and the code is taken with a conditional UPDATE of the
// watermark: of concurrent requests with the same code exactly one wins.
func (d *Device) VerifyToken(ctx context.Context, token string) (bool, error) {
	want, ok := auth.CanonicalDigits(token, d.Digits)
	if !ok {
		return false, nil
	}
	db := d.p.s.DB().WithContext(ctx)
	var row Device
	if err := db.Where("id = ?", d.ID).Take(&row).Error; err != nil {
		return false, err
	}
	row.p = d.p
	now := d.p.s.Now().UnixMilli()
	if row.Counter == 0 || row.Counter <= row.UsedCounter || row.IssuedAt == 0 ||
		now-row.IssuedAt > d.p.cfg.CodeValidity.Milliseconds() {
		return false, nil
	}
	got, err := row.code(row.Counter)
	if err != nil {
		return false, err
	}
	if subtle.ConstantTimeCompare([]byte(got), []byte(want)) != 1 {
		return false, nil
	}
	res := db.Model(&Device{}).Where("id = ? AND counter = ? AND used_counter < ?", row.ID, row.Counter, row.Counter).
		Update("used_counter", row.Counter)
	if res.Error != nil {
		return false, res.Error
	}
	return res.RowsAffected == 1, nil
}
