package phone

import (
	"context"
	"crypto/rand"
	"errors"
	"slices"
	"strings"

	"github.com/gin-gonic/gin"
	"github.com/nyaruka/phonenumbers"
	"gorm.io/gorm"

	"github.com/gatehouse/gatehouse/auth"
	"github.com/gatehouse/gatehouse/internal/locale"
)

// Method is one phone method, "sms" or "call". It implements auth.Method,
// auth.Enroller, auth.Stepper and auth.Router.
type Method struct {
	p    *Phones
	code string
}

// Code is "sms" or "call".
func (m *Method) Code() string { return m.code }

// Name is the method's name in the setup choice.
func (m *Method) Name(l *locale.Lang) string { return methodName(l, m.code) }

// Primary: a phone can be a user's default device.
func (m *Method) Primary() bool { return true }

// Models are the phone tables; the first method carries them.
func (m *Method) Models() []any {
	if m != m.p.methods[0] {
		return nil
	}
	return []any{&Device{}, &callRow{}, &cooldownRow{}}
}

// SetupStep is the wizard step of the number form: "sms" or "call".
func (m *Method) SetupStep() string { return m.code }

// TokenField is the field of the confirming code, on the wizard's
// validation step.
func (m *Method) TokenField() string { return "validation-token" }

// NumberField is the number's field on the setup step: "sms-number".
func (m *Method) NumberField() string { return m.code + "-number" }

func (m *Method) db(ctx context.Context) *gorm.DB { return m.p.s.DB().WithContext(ctx) }

// Devices lists the user's confirmed phones of this method: the default
// phone first, then the backup phones.
func (m *Method) Devices(ctx context.Context, userID uint) ([]auth.Device, error) {
	var rows []Device
	err := m.db(ctx).Where("user_id = ? AND method = ? AND confirmed = ?", userID, m.code, true).
		Order("CASE WHEN name = 'default' THEN 0 ELSE 1 END, id").Find(&rows).Error
	if err != nil {
		return nil, err
	}
	out := make([]auth.Device, len(rows))
	for i := range rows {
		rows[i].p = m.p
		out[i] = &rows[i]
	}
	return out, nil
}

// DeleteAll removes every phone of the method of the user, and the user's
// pending calls.
func (m *Method) DeleteAll(ctx context.Context, tx *gorm.DB, userID uint) error {
	tx = tx.WithContext(ctx)
	if err := tx.Where("user_id = ? AND method = ?", userID, m.code).Delete(&Device{}).Error; err != nil {
		return err
	}
	return tx.Where("user_id = ?", userID).Delete(&callRow{}).Error
}

// newDevice makes an unconfirmed phone with a fresh sealed key; an older
// unconfirmed phone of the user with the same name is replaced (one
// pending setup at a time).
func (p *Phones) newDevice(ctx context.Context, u *auth.User, name, method, number string) (*Device, error) {
	key := make([]byte, 20)
	if _, err := rand.Read(key); err != nil {
		return nil, err
	}
	d := &Device{UserID: u.ID, Name: name, Method: method, Number: number,
		SealedKey: p.s.Seal(key, sealContext(u.ID)), Digits: p.s.Config().TOTPDigits, CreatedAt: p.s.Now(), p: p}
	err := p.s.DB().WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		if err := tx.Where("user_id = ? AND name = ? AND confirmed = ?", u.ID, name, false).Delete(&Device{}).Error; err != nil {
			return err
		}
		return tx.Create(d).Error
	})
	if err != nil {
		return nil, err
	}
	return d, nil
}

// BeginSetup creates the unconfirmed phone the wizard's step fills in.
func (m *Method) BeginSetup(ctx context.Context, u *auth.User) (uint, error) {
	d, err := m.p.newDevice(ctx, u, NameDefault, m.code, "")
	if err != nil {
		return 0, err
	}
	return d.ID, nil
}

// pending is the user's unconfirmed phone id of this method and name.
func (p *Phones) pending(ctx context.Context, u *auth.User, id uint, name, method string) (*Device, error) {
	var d Device
	q := p.s.DB().WithContext(ctx).Where("id = ? AND user_id = ? AND name = ? AND confirmed = ?", id, u.ID, name, false)
	if method != "" {
		q = q.Where("method = ?", method)
	}
	if err := q.Take(&d).Error; err != nil {
		return nil, err
	}
	d.p = p
	return &d, nil
}

// PendingDevice is the phone being set up.
func (m *Method) PendingDevice(ctx context.Context, u *auth.User, id uint) (auth.Device, error) {
	return m.p.pending(ctx, u, id, NameDefault, m.code)
}

// SetupData is the data of the "setup-sms" and "setup-call" partials
// (.D.Enroll).
type SetupData struct {
	Method  string // "sms" or "call"
	Field   string // the number's form field
	Number  string // the number entered so far, formatted
	Example string // an example number in international notation
}

// SetupView returns the number step's data.
func (m *Method) SetupView(ctx context.Context, u *auth.User, id uint) (any, error) {
	d, err := m.p.pending(ctx, u, id, NameDefault, m.code)
	if err != nil {
		return nil, err
	}
	return &SetupData{Method: m.code, Field: m.NumberField(), Number: numberValue(d.Number), Example: m.p.example()}, nil
}

// numberValue is a stored number as the form shows it again.
func numberValue(e164 string) string {
	if e164 == "" {
		return ""
	}
	return FormatNumber(e164)
}

// example is an example number for the help text: a mobile number of the
// default region (or the first allowed one), in international notation.
func (p *Phones) example() string {
	region := p.cfg.DefaultRegion
	if region == "" && len(p.cfg.AllowedCountries) > 0 {
		region = p.cfg.AllowedCountries[0]
	}
	if region == "" {
		region = "GB"
	}
	n := phonenumbers.GetExampleNumberForType(region, phonenumbers.MOBILE)
	if n == nil {
		return "+44 7400 123456"
	}
	return phonenumbers.Format(n, phonenumbers.INTERNATIONAL)
}

// SetupSubmit reads the number, stores it on the pending phone (voiding a
// code sent to an earlier number) and sends the code.
func (m *Method) SetupSubmit(c *gin.Context, u *auth.User, id uint) error {
	number, err := m.p.parse(c.PostForm(m.NumberField()))
	if err != nil {
		return err
	}
	ctx := c.Request.Context()
	d, err := m.p.pending(ctx, u, id, NameDefault, m.code)
	if errors.Is(err, gorm.ErrRecordNotFound) {
		return &auth.UserError{ID: "phone_setup_restart"}
	}
	if err != nil {
		return err
	}
	if err := m.db(ctx).Model(&Device{}).Where("id = ? AND confirmed = ?", d.ID, false).
		Updates(map[string]any{"number": number, "issued_at": 0}).Error; err != nil {
		return err
	}
	d.Number, d.IssuedAt = number, 0
	return m.p.send(c, u, d)
}

// parse reads a typed number into E.164; what the user can fix is a
// *auth.UserError.
func (p *Phones) parse(raw string) (string, error) {
	number, err := ParseNumber(raw, p.cfg.DefaultRegion)
	switch {
	case errors.Is(err, ErrNoNumber):
		return "", &auth.UserError{ID: "phone_number_required"}
	case err != nil:
		return "", &auth.UserError{ID: "phone_number_invalid", Args: []any{"Example", p.example()}}
	case !p.allowed(number):
		return "", &auth.UserError{ID: "phone_country_not_allowed"}
	}
	return number, nil
}

// allowed reports whether codes may go to number's country.
func (p *Phones) allowed(number string) bool {
	if len(p.cfg.AllowedCountries) == 0 {
		return true
	}
	return slices.Contains(p.cfg.AllowedCountries, Region(number))
}

// Confirm marks the pending phone confirmed, after its code verified.
func (m *Method) Confirm(ctx context.Context, tx *gorm.DB, u *auth.User, id uint) error {
	return m.p.confirm(ctx, tx, u, id, NameDefault)
}

func (p *Phones) confirm(ctx context.Context, tx *gorm.DB, u *auth.User, id uint, name string) error {
	res := tx.WithContext(ctx).Model(&Device{}).
		Where("id = ? AND user_id = ? AND name = ? AND confirmed = ? AND number <> ''", id, u.ID, name, false).
		Update("confirmed", true)
	if res.Error != nil {
		return res.Error
	}
	if res.RowsAffected != 1 {
		return gorm.ErrRecordNotFound
	}
	return nil
}

// Routes mounts the backup-phone pages and the call gateway's callbacks;
// the first method does it for both.
func (m *Method) Routes(r gin.IRouter) {
	if m != m.p.methods[0] {
		return
	}
	m.p.routes(r)
}

// trimmed is a posted value without surrounding space.
func trimmed(c *gin.Context, field string) string { return strings.TrimSpace(c.PostForm(field)) }
