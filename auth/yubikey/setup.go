package yubikey

import (
	"context"
	"encoding/base64"
	"errors"
	"time"

	"gorm.io/gorm"

	"github.com/gatehouse/gatehouse/auth"
	"github.com/gatehouse/gatehouse/internal/httpx"
	"github.com/gatehouse/gatehouse/internal/locale"
)

// The setup wizard's "yubikey" step. BeginSetup makes a pending row; the
// OTP posted as yubikey-token is verified through auth.Service.Verify (so
// it is throttled and consumed) by a pendingDevice, which fills the row:
// in ModeRemote with the public id and the "default" service once the
// service said OK; in ModeLocal by taking over the administrator's
// registration whose key decrypted the OTP. Confirm then marks it.

// BeginSetup creates the pending row; older pending rows of the user go
// (an administrator's unconfirmed registrations stay).
func (m *Method) BeginSetup(ctx context.Context, u *auth.User) (uint, error) {
	row := Device{UserID: u.ID, Name: "default", Kind: kindPending, UseCounter: -1, SessionCounter: -1, CreatedAt: m.s.Now()}
	err := m.db(ctx).Transaction(func(tx *gorm.DB) error {
		if err := tx.Where("user_id = ? AND confirmed = ? AND kind <> ?", u.ID, false, KindLocal).Delete(&Device{}).Error; err != nil {
			return err
		}
		return tx.Create(&row).Error
	})
	return row.ID, err
}

func (m *Method) pending(ctx context.Context, u *auth.User, id uint) (*Device, error) {
	var row Device
	if err := m.db(ctx).Where("id = ? AND user_id = ? AND confirmed = ? AND kind <> ?", id, u.ID, false, KindLocal).Take(&row).Error; err != nil {
		return nil, err
	}
	return &row, nil
}

// SetupData is the "setup-yubikey" partial's data (.D.Enroll).
type SetupData struct {
	Local bool // ModeLocal: the key must have been registered by an administrator
}

func (m *Method) SetupView(ctx context.Context, u *auth.User, id uint) (any, error) {
	if _, err := m.pending(ctx, u, id); err != nil {
		return nil, err
	}
	return &SetupData{Local: m.cfg.Mode == ModeLocal}, nil
}

func (m *Method) PendingDevice(ctx context.Context, u *auth.User, id uint) (auth.Device, error) {
	row, err := m.pending(ctx, u, id)
	if err != nil {
		return nil, err
	}
	return &pendingDevice{m: m, row: *row}, nil
}

// Confirm marks the pending row once an OTP filled it.
func (m *Method) Confirm(ctx context.Context, tx *gorm.DB, u *auth.User, id uint) error {
	res := tx.WithContext(ctx).Model(&Device{}).
		Where("id = ? AND user_id = ? AND confirmed = ? AND kind IN ? AND public_id <> ''", id, u.ID, false, []string{KindRemote, KindLocal}).
		Update("confirmed", true)
	if res.Error != nil {
		return res.Error
	}
	if res.RowsAffected != 1 {
		return gorm.ErrRecordNotFound
	}
	return nil
}

// pendingDevice verifies the setup step's OTP.
type pendingDevice struct {
	m   *Method
	row Device
}

func (d *pendingDevice) Key() string                      { return deviceKey(d.row.ID) }
func (d *pendingDevice) MethodCode() string               { return Code }
func (d *pendingDevice) Label(l *locale.Lang) string      { return l.T("yubikey_device") }
func (d *pendingDevice) ActionText(l *locale.Lang) string { return l.T("yubikey_action") }
func (d *pendingDevice) ThrottleFactor() time.Duration    { return d.m.cfg.ThrottleFactor }

func (d *pendingDevice) VerifyToken(ctx context.Context, token string) (bool, error) {
	o, ok := ParseOTP(token)
	if !ok {
		return false, nil
	}
	if d.m.cfg.Mode == ModeLocal {
		return d.m.claimLocal(ctx, &d.row, o)
	}
	v, err := d.m.Service(ctx, DefaultService)
	if errors.Is(err, gorm.ErrRecordNotFound) {
		httpx.Logger(ctx).ErrorContext(ctx, "yubikey: there is no validation service named default; run migrate or add it in the admin")
		return false, &auth.UserError{ID: "yubikey_service_error"}
	}
	if err != nil {
		return false, err
	}
	a, err := d.m.verifyRemote(ctx, v, d.Key(), o)
	if err != nil || a == nil {
		return false, err
	}
	set := map[string]any{"kind": KindRemote, "public_id": o.PublicID, "service_id": v.ID}
	if a.HasCounters {
		set["use_counter"], set["session_counter"] = a.SessionCounter, a.SessionUse
	}
	res := d.m.db(ctx).Model(&Device{}).Where("id = ? AND confirmed = ? AND kind = ?", d.row.ID, false, kindPending).Updates(set)
	if res.Error != nil {
		return false, res.Error
	}
	return res.RowsAffected == 1, nil
}

// claimLocal finds the administrator's unconfirmed registration of the
// OTP's key for this user, accepts the OTP with its key and counters, and
// moves the registration into the pending row.
func (m *Method) claimLocal(ctx context.Context, pending *Device, o OTP) (bool, error) {
	var reg Device
	err := m.db(ctx).Where("user_id = ? AND kind = ? AND confirmed = ? AND public_id = ?", pending.UserID, KindLocal, false, o.PublicID).
		Order("id").Take(&reg).Error
	if errors.Is(err, gorm.ErrRecordNotFound) {
		return false, &auth.UserError{ID: "yubikey_not_registered"}
	}
	if err != nil {
		return false, err
	}
	ok, use, session, err := m.verifyLocal(ctx, reg, o)
	if err != nil || !ok {
		return false, err
	}
	err = m.db(ctx).Transaction(func(tx *gorm.DB) error {
		res := tx.Model(&Device{}).Where("id = ? AND confirmed = ? AND kind = ?", pending.ID, false, kindPending).
			Updates(map[string]any{"kind": KindLocal, "name": reg.Name, "public_id": reg.PublicID, "sealed_key": reg.SealedKey,
				"use_counter": use, "session_counter": session})
		if res.Error != nil {
			return res.Error
		}
		if res.RowsAffected != 1 {
			return gorm.ErrRecordNotFound
		}
		res = tx.Where("id = ? AND confirmed = ?", reg.ID, false).Delete(&Device{})
		if res.Error == nil && res.RowsAffected != 1 {
			return gorm.ErrRecordNotFound // claimed by a concurrent setup
		}
		return res.Error
	})
	if errors.Is(err, gorm.ErrRecordNotFound) {
		return false, nil
	}
	return err == nil, err
}

// DecodeAPIKey decodes a base64 API key as Yubico issues them (for
// settings such as GATEHOUSE_YUBIKEY_API_KEY).
func DecodeAPIKey(s string) ([]byte, error) {
	key, err := base64.StdEncoding.DecodeString(s)
	if err != nil || len(key) == 0 {
		return nil, errors.New("yubikey: API key: not base64")
	}
	return key, nil
}
