// Package webauthn adds WebAuthn security keys and passkeys to Gatehouse as
// a second-factor method ("webauthn"), through github.com/go-webauthn/webauthn.
//
// What it gives:
//   - the setup wizard step "webauthn" (token field "webauthn-token"): the
//     browser registers a key and posts the attestation as the token;
//   - the login token step: one device per user standing for all their keys
//     (partial "token-webauthn"); the browser posts the assertion JSON as
//     token-otp_token like any other method, so throttling and the wizard's
//     rules apply unchanged;
//   - a page at /account/two_factor/webauthn/ to add (named) and remove keys;
//   - optional passkey sign-in from the login page (Config.PasskeyLogin): a
//     discoverable credential with user verification satisfies both factors.
//
// Ceremony state (go-webauthn's SessionData) never lives in the session or
// in process memory: it is a row keyed by purpose and the session binding
// (auth.Service.Binding), consumed by a conditional DELETE and expiring by
// the service clock. The token step and the setup wizard find it through
// auth.RequestInfoFrom(ctx), which carries the binding of the request.
package webauthn

import (
	"context"
	"crypto/x509"
	"fmt"

	"gorm.io/gorm"

	"github.com/gatehouse/gatehouse/auth"
	"github.com/gatehouse/gatehouse/internal/locale"
)

// Code is the method's code, its setup step and the prefix of device keys.
const Code = "webauthn"

// Base is where the method's pages and ceremony endpoints live.
const Base = "/account/two_factor/webauthn/"

// Method is the WebAuthn second factor. It implements auth.Method,
// auth.Enroller and auth.Router.
type Method struct {
	s     *auth.Service
	cfg   Config
	roots map[string]*x509.CertPool
}

// New checks cfg, registers the method with s (before s.Migrate and
// s.Engine) and returns it.
func New(s *auth.Service, cfg Config) (*Method, error) {
	cfg = cfg.withDefaults()
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	m := &Method{s: s, cfg: cfg, roots: map[string]*x509.CertPool{}}
	for f, pems := range cfg.RootCerts {
		certs, err := parseRoots(pems)
		if err != nil {
			return nil, fmt.Errorf("GATEHOUSE_WEBAUTHN_ROOT_CERTS: %s: %w", f, err)
		}
		pool := x509.NewCertPool()
		for _, c := range certs {
			pool.AddCert(c)
		}
		m.roots[f] = pool
	}
	s.Register(m)
	s.SetFeature("webauthn", true)
	s.SetFeature("passkey-login", cfg.PasskeyLogin)
	return m, nil
}

// Config returns the effective configuration.
func (m *Method) Config() Config { return m.cfg }

func (m *Method) Code() string               { return Code }
func (m *Method) Name(l *locale.Lang) string { return l.T("webauthn_method") }
func (m *Method) Primary() bool              { return true }
func (m *Method) Models() []any              { return []any{&Credential{}, &userHandle{}, &challenge{}} }
func (m *Method) SetupStep() string          { return Code }
func (m *Method) TokenField() string         { return "webauthn-token" }

func (m *Method) db(ctx context.Context) *gorm.DB { return m.s.DB().WithContext(ctx) }

// Devices returns one device standing for all of the user's confirmed
// keys: the login ceremony offers every key at once, so the token step
// shows one "security key" choice however many keys there are.
func (m *Method) Devices(ctx context.Context, userID uint) ([]auth.Device, error) {
	d, err := m.keysDevice(ctx, userID)
	if err != nil || d == nil {
		return nil, err
	}
	return []auth.Device{d}, nil
}

func (m *Method) keysDevice(ctx context.Context, userID uint) (*keysDevice, error) {
	var ids []uint
	if err := m.db(ctx).Model(&Credential{}).Where("user_id = ? AND confirmed = ?", userID, true).
		Order("id").Pluck("id", &ids).Error; err != nil {
		return nil, err
	}
	if len(ids) == 0 {
		return nil, nil
	}
	return &keysDevice{m: m, userID: userID, first: ids[0], count: len(ids)}, nil
}

// DeleteAll removes the user's keys and pending ceremonies.
func (m *Method) DeleteAll(ctx context.Context, tx *gorm.DB, userID uint) error {
	tx = tx.WithContext(ctx)
	if err := tx.Where("user_id = ?", userID).Delete(&Credential{}).Error; err != nil {
		return err
	}
	return tx.Where("user_id = ?", userID).Delete(&challenge{}).Error
}

// BeginSetup creates the unconfirmed row the wizard step fills; an older
// unconfirmed row of the user is replaced.
func (m *Method) BeginSetup(ctx context.Context, u *auth.User) (uint, error) {
	row := Credential{UserID: u.ID, CreatedAt: m.s.Now()}
	err := m.db(ctx).Transaction(func(tx *gorm.DB) error {
		if err := tx.Where("user_id = ? AND confirmed = ?", u.ID, false).Delete(&Credential{}).Error; err != nil {
			return err
		}
		return tx.Create(&row).Error
	})
	return row.ID, err
}

func (m *Method) pending(ctx context.Context, u *auth.User, id uint) (*Credential, error) {
	var row Credential
	if err := m.db(ctx).Where("id = ? AND user_id = ? AND confirmed = ?", id, u.ID, false).Take(&row).Error; err != nil {
		return nil, err
	}
	return &row, nil
}

// SetupData is the "setup-webauthn" partial's data (.D.Enroll).
type SetupData struct {
	Begin string // the begin-registration endpoint
}

func (m *Method) SetupView(ctx context.Context, u *auth.User, id uint) (any, error) {
	if _, err := m.pending(ctx, u, id); err != nil {
		return nil, err
	}
	return &SetupData{Begin: Base + "begin-registration/"}, nil
}

func (m *Method) PendingDevice(ctx context.Context, u *auth.User, id uint) (auth.Device, error) {
	row, err := m.pending(ctx, u, id)
	if err != nil {
		return nil, err
	}
	return &pendingDevice{m: m, row: row}, nil
}

// Confirm marks the row confirmed once its registration verified.
func (m *Method) Confirm(ctx context.Context, tx *gorm.DB, u *auth.User, id uint) error {
	res := tx.WithContext(ctx).Model(&Credential{}).
		Where("id = ? AND user_id = ? AND confirmed = ? AND credential_hash IS NOT NULL", id, u.ID, false).
		Update("confirmed", true)
	if res.Error != nil {
		return res.Error
	}
	if res.RowsAffected != 1 {
		return gorm.ErrRecordNotFound
	}
	return nil // the wizard records device_added
}

// record stores a security event for a request known only by its context
// (which carries the client IP, see auth.WithClientIP).
func (m *Method) record(ctx context.Context, e auth.Event) { m.s.RecordContext(ctx, e) }

func deviceKey(id uint) string { return fmt.Sprintf("%s/%d", Code, id) }
