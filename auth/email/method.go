// Package email adds one-time codes by email to Gatehouse as a
// second-factor method ("email"), as the seed's email plugin does.
//
// Codes are 6 digits, valid Config.TokenValidity (300 s), stored only as a
// keyed hash bound to the device and the address they were sent to, and
// accepted once (a conditional UPDATE clears them). Wrong codes are
// throttled by auth.Service.Verify; sending has a per-device cooldown and
// per-user, per-address and site-wide budgets against mail bombing.
// Mail goes out over SMTP through github.com/wneessen/go-mail; the subject
// and bodies are translated templates a site may override
// (templates/email).
//
// Setup step "email" (field "email-email") asks for the address, prefilled
// with the user's; a user without one gives it here, and it is stored on
// the user once the code sent to it was confirmed. Then the wizard's
// "validation" step asks for the code. At login the device sends a code
// when it is chosen (auth.Challenger), and its button reads "Send email to
// b***e@example.com".
package email

import (
	"context"
	"crypto/hmac"
	"crypto/rand"
	"errors"
	"fmt"
	"io/fs"
	"math/big"
	"strconv"
	"strings"
	"time"

	"github.com/gin-gonic/gin"
	"gorm.io/gorm"

	"github.com/gatehouse/gatehouse/auth"
	"github.com/gatehouse/gatehouse/internal/httpx"
	"github.com/gatehouse/gatehouse/internal/locale"
	"github.com/gatehouse/gatehouse/internal/render"
	emailtpl "github.com/gatehouse/gatehouse/templates/email"
)

// Code is the method's code, its setup step and the prefix of device keys.
const Code = "email"

// Digits is the length of a code.
const Digits = 6

// Device is an email address a user receives codes at
// (django-otp's EmailDevice).
type Device struct {
	ID        uint   `gorm:"primaryKey"`
	UserID    uint   `gorm:"not null;index"`
	Name      string `gorm:"size:64;not null"`
	Confirmed bool   `gorm:"not null;default:false"`
	// Email is where codes go; while setup is pending, what the user typed.
	Email string `gorm:"size:254;not null"`
	// TokenHash is the keyed hash of the current code, bound to the device
	// and Email; empty when there is none.
	TokenHash string `gorm:"size:64;not null" json:"-"`
	// ValidUntil is when the current code expires (unix milliseconds).
	ValidUntil int64 `gorm:"not null"`
	// SentAt is when the last code was sent (unix milliseconds), for the
	// cooldown; a verified code clears it.
	SentAt    int64 `gorm:"not null"`
	CreatedAt time.Time
}

// TableName is otp_email_device.
func (Device) TableName() string { return "otp_email_device" }

// Method is the email second factor. It implements auth.Method,
// auth.Enroller and auth.Stepper; its devices are auth.Challengers.
type Method struct {
	s    *auth.Service
	cfg  Config
	tpl  fs.FS
	site string
}

// New checks cfg, registers the method with s (before s.Migrate and
// s.Engine) and returns it.
func New(s *auth.Service, cfg Config) (*Method, error) {
	cfg = cfg.withDefaults()
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	m := &Method{s: s, cfg: cfg, site: cfg.SiteName}
	if m.site == "" {
		m.site = s.Config().TOTPIssuer
	}
	m.tpl = emailtpl.FS
	if site := s.Config().Templates; site != nil {
		if sub, err := fs.Sub(site, "email"); err == nil {
			m.tpl = render.Overlay(sub, m.tpl)
		}
	}
	if cfg.Templates != nil {
		m.tpl = render.Overlay(cfg.Templates, m.tpl)
	}
	s.Register(m)
	return m, nil
}

// Config returns the effective configuration.
func (m *Method) Config() Config { return m.cfg }

func (m *Method) Code() string               { return Code }
func (m *Method) Name(l *locale.Lang) string { return l.T("email_method") }
func (m *Method) Primary() bool              { return true }
func (m *Method) Models() []any              { return []any{&Device{}} }
func (m *Method) SetupStep() string          { return Code }
func (m *Method) TokenField() string         { return "validation-token" }

func (m *Method) db(ctx context.Context) *gorm.DB { return m.s.DB().WithContext(ctx) }

// Devices lists the user's confirmed addresses.
func (m *Method) Devices(ctx context.Context, userID uint) ([]auth.Device, error) {
	var rows []Device
	if err := m.db(ctx).Where("user_id = ? AND confirmed = ?", userID, true).Order("id").Find(&rows).Error; err != nil {
		return nil, err
	}
	out := make([]auth.Device, len(rows))
	for i := range rows {
		out[i] = &device{m: m, row: rows[i]}
	}
	return out, nil
}

// DeleteAll removes the user's addresses, confirmed or not.
func (m *Method) DeleteAll(ctx context.Context, tx *gorm.DB, userID uint) error {
	return tx.WithContext(ctx).Where("user_id = ?", userID).Delete(&Device{}).Error
}

// BeginSetup returns the user's pending row, or makes one prefilled with
// the user's address. The row is kept across restarts of the step, so its
// cooldown holds: going back and forth does not send more mail.
func (m *Method) BeginSetup(ctx context.Context, u *auth.User) (uint, error) {
	var row Device
	err := m.db(ctx).Where("user_id = ? AND confirmed = ?", u.ID, false).Order("id").Limit(1).Find(&row).Error
	if err != nil || row.ID != 0 {
		return row.ID, err
	}
	addr := strings.TrimSpace(u.Email)
	if len(addr) > MaxAddress {
		addr = ""
	}
	row = Device{UserID: u.ID, Name: "default", Email: addr, CreatedAt: m.s.Now()}
	return row.ID, m.db(ctx).Create(&row).Error
}

func (m *Method) pending(ctx context.Context, u *auth.User, id uint) (*Device, error) {
	var row Device
	if err := m.db(ctx).Where("id = ? AND user_id = ? AND confirmed = ?", id, u.ID, false).Take(&row).Error; err != nil {
		return nil, err
	}
	return &row, nil
}

// SetupData is the "setup-email" partial's data (.D.Enroll).
type SetupData struct {
	Email string // the address to prefill
}

func (m *Method) SetupView(ctx context.Context, u *auth.User, id uint) (any, error) {
	row, err := m.pending(ctx, u, id)
	if err != nil {
		return nil, err
	}
	return &SetupData{Email: row.Email}, nil
}

func (m *Method) PendingDevice(ctx context.Context, u *auth.User, id uint) (auth.Device, error) {
	row, err := m.pending(ctx, u, id)
	if err != nil {
		return nil, err
	}
	return &device{m: m, row: *row}, nil
}

// SetupSubmit takes the posted address (email-email), keeps it on the
// pending row and sends a code to it. A changed address voids a code sent
// to the old one. Problems the user can fix are *auth.UserError.
func (m *Method) SetupSubmit(c *gin.Context, u *auth.User, id uint) error {
	ctx := c.Request.Context()
	row, err := m.pending(ctx, u, id)
	if err != nil {
		return err
	}
	addr := strings.TrimSpace(c.PostForm("email-email"))
	if len(addr) > MaxAddress {
		return &auth.UserError{ID: "email_invalid"}
	}
	if addr != row.Email {
		res := m.db(ctx).Model(&Device{}).Where("id = ? AND confirmed = ?", row.ID, false).
			Updates(map[string]any{"email": addr, "token_hash": "", "valid_until": 0})
		if res.Error != nil {
			return res.Error
		}
		row.Email, row.TokenHash = addr, ""
	}
	if !ValidAddress(addr) {
		return &auth.UserError{ID: "email_invalid"}
	}
	err = m.send(c, u, row)
	var se *sendError
	if errors.As(err, &se) {
		// The wizard shows a *auth.UserError and keeps the step; anything
		// else would be a 500 for a mail server that is down.
		httpx.Logger(ctx).ErrorContext(ctx, "email: cannot send the setup code", "user_id", u.ID, "err", err)
		return &auth.UserError{ID: "challenge_failed"}
	}
	return err
}

// Confirm marks the pending address confirmed and, when the user has no
// address yet, stores it on the user.
func (m *Method) Confirm(ctx context.Context, tx *gorm.DB, u *auth.User, id uint) error {
	return tx.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		var row Device
		if err := tx.Where("id = ? AND user_id = ? AND confirmed = ?", id, u.ID, false).Take(&row).Error; err != nil {
			return err
		}
		if !ValidAddress(row.Email) {
			return fmt.Errorf("email: pending device %d has no valid address", id)
		}
		res := tx.Model(&Device{}).Where("id = ? AND confirmed = ? AND email = ?", id, false, row.Email).Update("confirmed", true)
		if res.Error != nil {
			return res.Error
		}
		if res.RowsAffected != 1 {
			return gorm.ErrRecordNotFound
		}
		if err := tx.Model(&auth.User{}).Where("id = ? AND (email = '' OR email IS NULL)", u.ID).Update("email", row.Email).Error; err != nil {
			return err
		}
		if u.Email == "" {
			u.Email = row.Email
		}
		return nil
	})
}

// device is an address, confirmed or pending.
type device struct {
	m   *Method
	row Device
}

func (d *device) Key() string        { return fmt.Sprintf("%s/%d", Code, d.row.ID) }
func (d *device) MethodCode() string { return Code }
func (d *device) Label(l *locale.Lang) string {
	return l.T("email_device", "Address", MaskEmail(d.row.Email))
}
func (d *device) ActionText(l *locale.Lang) string {
	return l.T("email_action", "Address", MaskEmail(d.row.Email))
}
func (d *device) ThrottleFactor() time.Duration { return d.m.cfg.ThrottleFactor }

// Challenge sends a code when the login asks for this device.
func (d *device) Challenge(c *gin.Context, u *auth.User) error {
	return d.m.send(c, u, &d.row)
}

// VerifyToken accepts the current code once, before it expires.
func (d *device) VerifyToken(ctx context.Context, token string) (bool, error) {
	code, ok := auth.CanonicalDigits(token, Digits)
	if !ok {
		return false, nil
	}
	var row Device
	if err := d.m.db(ctx).Where("id = ?", d.row.ID).Take(&row).Error; err != nil {
		return false, err
	}
	now := d.m.s.Now().UnixMilli()
	if row.TokenHash == "" || now >= row.ValidUntil {
		return false, nil
	}
	if !hmac.Equal([]byte(d.m.codeHash(row.ID, row.Email, code)), []byte(row.TokenHash)) {
		return false, nil
	}
	// Single use: of two requests with this code, one clears it. A
	// verified code also ends the send cooldown.
	res := d.m.db(ctx).Model(&Device{}).
		Where("id = ? AND token_hash = ? AND email = ? AND valid_until > ?", row.ID, row.TokenHash, row.Email, now).
		Updates(map[string]any{"token_hash": "", "valid_until": 0, "sent_at": 0})
	if res.Error != nil {
		return false, res.Error
	}
	return res.RowsAffected == 1, nil
}

// codeHash binds a code to its device and address.
func (m *Method) codeHash(id uint, addr, code string) string {
	return m.s.MAC("email code", strconv.FormatUint(uint64(id), 10), strings.ToLower(addr), code)
}

// newCode is a uniformly random code of Digits digits.
func newCode() (string, error) {
	n, err := rand.Int(rand.Reader, big.NewInt(1_000_000))
	if err != nil {
		return "", err
	}
	return fmt.Sprintf("%06d", n.Int64()), nil
}

var errNoAddress = errors.New("email: device has no valid address")

// sendError is a failure to render or deliver the email: the code did
// not go out, and the user may try again.
type sendError struct{ err error }

func (e *sendError) Error() string { return "email: " + e.err.Error() }
func (e *sendError) Unwrap() error { return e.err }
