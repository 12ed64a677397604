// Package yubikey adds YubiKey one-time passwords (Yubico OTP) to
// Gatehouse as a second-factor method ("yubikey"), as the seed's
// otp_yubikey plugin does:
//
//   - remote devices are verified by a validation service speaking the
//     Yubico validation protocol 2.0 (Client): a random nonce per request,
//     HMAC-SHA1 signatures both ways when the service has an API key, the
//     echoed otp and nonce checked, and anything but status OK refused.
//     Services are rows of ValidationService (managed in the admin); the
//     setup wizard enrols against the one named "default", which Migrate
//     creates pointing to YubiCloud;
//   - local devices are verified here: AES-128 decryption of the token
//     block, CRC check, private id, and usage and session counters that
//     must strictly increase (a conditional UPDATE, so an OTP works once
//     across instances). Administrators register them with AddLocal.
//
// Every OTP is checked for modhex and bound to the device's public id
// before anything is sent or decrypted. The setup step is "yubikey" with
// the field "yubikey-token"; the login token step shows a text field
// (partial "token-yubikey").
package yubikey

import (
	"context"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
	"time"

	"gorm.io/gorm"

	"github.com/gatehouse/gatehouse/auth"
	"github.com/gatehouse/gatehouse/internal/httpx"
	"github.com/gatehouse/gatehouse/internal/locale"
)

// Code is the method's code, its setup step and the prefix of device keys.
const Code = "yubikey"

const serviceSealContext = "yubikey validation service"

// Method is the YubiKey second factor. It implements auth.Method,
// auth.Enroller and auth.Seeder.
type Method struct {
	s      *auth.Service
	cfg    Config
	client Client
}

// New checks cfg, registers the method with s (before s.Migrate and
// s.Engine) and returns it.
func New(s *auth.Service, cfg Config) (*Method, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	m := &Method{s: s, cfg: cfg, client: Client{HTTP: cfg.HTTPClient}}
	s.Register(m)
	return m, nil
}

// Config returns the effective configuration.
func (m *Method) Config() Config { return m.cfg }

func (m *Method) Code() string               { return Code }
func (m *Method) Name(l *locale.Lang) string { return l.T("yubikey_method") }
func (m *Method) Primary() bool              { return true }
func (m *Method) Models() []any              { return []any{&ValidationService{}, &Device{}} }
func (m *Method) SetupStep() string          { return Code }
func (m *Method) TokenField() string         { return "yubikey-token" }

func (m *Method) db(ctx context.Context) *gorm.DB { return m.s.DB().WithContext(ctx) }

// Devices lists the user's confirmed YubiKeys, one device each.
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

// DeleteAll removes every YubiKey of the user, registered or pending.
func (m *Method) DeleteAll(ctx context.Context, tx *gorm.DB, userID uint) error {
	return tx.WithContext(ctx).Where("user_id = ?", userID).Delete(&Device{}).Error
}

// LocalKey is what an administrator knows of a key programmed for local
// validation (with the YubiKey Personalization Tool or ykman).
type LocalKey struct {
	Name      string // e.g. "blue key"; empty: "default"
	PublicID  string // modhex, 2 to 32 chars
	PrivateID string // hex, 6 bytes
	AESKey    string // hex, 16 bytes
}

// AddLocal registers a locally validated key for a user. A confirmed key
// works at the next login; an unconfirmed one waits until the user touches
// it in the setup wizard (Mode local). It returns the device id.
func (m *Method) AddLocal(ctx context.Context, userID uint, k LocalKey, confirmed bool) (uint, error) {
	if _, err := ModhexDecode(k.PublicID); err != nil || len(k.PublicID) < MinPublicIDChars || len(k.PublicID) > MaxPublicIDChars {
		return 0, errors.New("yubikey: public id: 2 to 32 modhex characters")
	}
	priv, err := hex.DecodeString(k.PrivateID)
	if err != nil || len(priv) != 6 {
		return 0, errors.New("yubikey: private id: 12 hex digits")
	}
	key, err := hex.DecodeString(k.AESKey)
	if err != nil || len(key) != 16 {
		return 0, errors.New("yubikey: AES key: 32 hex digits")
	}
	name := k.Name
	if name == "" {
		name = "default"
	}
	publicID := strings.ToLower(k.PublicID)
	row := Device{UserID: userID, Name: name, Confirmed: confirmed, Kind: KindLocal, PublicID: publicID,
		SealedKey:  m.s.Seal(append(key, priv...), deviceSealContext(userID, publicID)),
		UseCounter: -1, SessionCounter: -1, CreatedAt: m.s.Now()}
	if err := m.db(ctx).Create(&row).Error; err != nil {
		return 0, err
	}
	if confirmed {
		m.s.RecordContext(ctx, auth.Event{Kind: auth.EventDeviceAdded, UserID: userID, Device: deviceKey(row.ID), Detail: "local YubiKey registered by an administrator"})
	}
	return row.ID, nil
}

func deviceSealContext(userID uint, publicID string) string {
	return fmt.Sprintf("yubikey/%d/%s", userID, publicID)
}

func deviceKey(id uint) string { return fmt.Sprintf("%s/%d", Code, id) }

// SetServiceKey stores the API key (base64, as Yubico issues it) of the
// named validation service, encrypted; "" removes it.
func (m *Method) SetServiceKey(ctx context.Context, name, apiKey string) error {
	var sealed []byte
	if apiKey != "" {
		key, err := DecodeAPIKey(apiKey)
		if err != nil {
			return err
		}
		sealed = m.s.Seal(key, serviceSealContext)
	}
	res := m.db(ctx).Model(&ValidationService{}).Where("name = ?", name).Update("api_key", sealed)
	if res.Error != nil {
		return res.Error
	}
	if res.RowsAffected != 1 {
		return fmt.Errorf("yubikey: no validation service named %q", name)
	}
	return nil
}

// Service returns the validation service called name.
func (m *Method) Service(ctx context.Context, name string) (*ValidationService, error) {
	var v ValidationService
	if err := m.db(ctx).Where("name = ?", name).Take(&v).Error; err != nil {
		return nil, err
	}
	return &v, nil
}

func (m *Method) serviceByID(ctx context.Context, id uint) (*ValidationService, error) {
	var v ValidationService
	if err := m.db(ctx).Where("id = ?", id).Take(&v).Error; err != nil {
		return nil, err
	}
	return &v, nil
}

// params opens the service's key for a request.
func (m *Method) params(v *ValidationService) (ServiceParams, error) {
	p := ServiceParams{URL: v.URL, APIID: v.APIID, RequireHTTPS: v.UseHTTPS, VerifySignature: v.VerifySignature}
	if len(v.SealedAPIKey) > 0 {
		key, err := m.s.Open(v.SealedAPIKey, serviceSealContext)
		if err != nil {
			return p, err
		}
		p.APIKey = key
	}
	return p, nil
}

// verifyRemote asks the device's service about otp. A refused OTP is
// (false, nil); a service that cannot answer, or whose answer does not
// verify, is an *auth.UserError: the attempt fails closed and counts.
func (m *Method) verifyRemote(ctx context.Context, v *ValidationService, key string, o OTP) (*Answer, error) {
	p, err := m.params(v)
	if err != nil {
		httpx.Logger(ctx).ErrorContext(ctx, "yubikey: validation service key does not decrypt", "service", v.Name, "err", err)
		return nil, &auth.UserError{ID: "yubikey_service_error"}
	}
	a, err := m.client.Verify(ctx, p, o.Value)
	if err == nil {
		return a, nil
	}
	log := httpx.Logger(ctx).With("service", v.Name, "device", key, "public_id", o.PublicID)
	var se *StatusError
	switch {
	case errors.As(err, &se) && se.Rejected():
		log.InfoContext(ctx, "yubikey: OTP refused by the validation service", "status", se.Status)
		return nil, nil
	case errors.As(err, &se) && se.Transient():
		log.WarnContext(ctx, "yubikey: validation service unavailable", "status", se.Status)
		return nil, &auth.UserError{ID: "yubikey_service_unavailable"}
	case errors.As(err, &se):
		log.ErrorContext(ctx, "yubikey: validation service refused the request; check the service's API id, key and URL", "status", se.Status)
		return nil, &auth.UserError{ID: "yubikey_service_error"}
	case errors.Is(err, ErrNotOTP):
		return nil, nil
	case errors.Is(err, ErrResponseSignature), errors.Is(err, ErrEcho):
		log.ErrorContext(ctx, "yubikey: validation answer refused (tampered, misrouted or wrong API key)", "err", err)
		return nil, &auth.UserError{ID: "yubikey_service_error"}
	case errors.Is(err, ErrInsecureURL):
		log.ErrorContext(ctx, "yubikey: validation service needs an https URL; nothing was sent", "err", err)
		return nil, &auth.UserError{ID: "yubikey_service_error"}
	default:
		log.WarnContext(ctx, "yubikey: validation service unreachable", "err", err)
		return nil, &auth.UserError{ID: "yubikey_service_unavailable"}
	}
}

// advance moves the device's counters to (use, session) only when that is
// strictly later than what it holds: of two requests with the same OTP,
// exactly one wins, on any number of instances.
func (m *Method) advance(ctx context.Context, tx *gorm.DB, id uint, use, session int) (bool, error) {
	res := tx.WithContext(ctx).Model(&Device{}).
		Where("id = ? AND (use_counter < ? OR (use_counter = ? AND session_counter < ?))", id, use, use, session).
		Updates(map[string]any{"use_counter": use, "session_counter": session})
	if res.Error != nil {
		return false, res.Error
	}
	return res.RowsAffected == 1, nil
}

// verifyLocal decrypts otp with the device's key and accepts it once. It
// returns the counters it accepted; row is not changed (a Device may be
// shared between goroutines).
func (m *Method) verifyLocal(ctx context.Context, row Device, o OTP) (ok bool, use, session int, err error) {
	sealed, err := m.s.Open(row.SealedKey, deviceSealContext(row.UserID, row.PublicID))
	if err != nil || len(sealed) != 22 {
		return false, 0, 0, fmt.Errorf("yubikey: device %d: %w", row.ID, errors.Join(err, errors.New("sealed key does not open")))
	}
	key, priv := sealed[:16], sealed[16:]
	b, err := Decrypt(o.Token, key)
	if err != nil {
		return false, 0, 0, nil // wrong key, or forged: the CRC does not hold
	}
	if !SamePrivateID(b.PrivateID[:], priv) {
		return false, 0, 0, nil
	}
	use, session = b.UseCounter(), int(b.Use)
	won, err := m.advance(ctx, m.s.DB(), row.ID, use, session)
	if err != nil {
		return false, 0, 0, err
	}
	if !won {
		// A genuine OTP of this key that is not newer: a replay (or a key
		// restored from a backup of its counters). Record it.
		var cur Device
		if err := m.db(ctx).Select("use_counter", "session_counter").Where("id = ?", row.ID).Take(&cur).Error; err == nil {
			m.s.RecordContext(ctx, auth.Event{Kind: auth.EventCounterRegressed, UserID: row.UserID, Device: deviceKey(row.ID),
				Detail: fmt.Sprintf("YubiKey OTP counters %d/%d not after %d/%d", use, session, cur.UseCounter, cur.SessionCounter)})
		}
		return false, 0, 0, nil
	}
	return true, use, session, nil
}

// device is a confirmed YubiKey.
type device struct {
	m   *Method
	row Device
}

func (d *device) Key() string                      { return deviceKey(d.row.ID) }
func (d *device) MethodCode() string               { return Code }
func (d *device) Label(l *locale.Lang) string      { return l.T("yubikey_device") }
func (d *device) ActionText(l *locale.Lang) string { return l.T("yubikey_action") }
func (d *device) ThrottleFactor() time.Duration    { return d.m.cfg.ThrottleFactor }

// TokenPartial draws a text field: an OTP is letters, not digits.
func (d *device) TokenPartial() string { return "token-yubikey" }

// VerifyToken accepts an OTP of this key once.
func (d *device) VerifyToken(ctx context.Context, token string) (bool, error) {
	o, ok := ParseOTP(token)
	if !ok || o.PublicID != d.row.PublicID {
		return false, nil // another key's OTP is never sent anywhere
	}
	switch d.row.Kind {
	case KindLocal:
		ok, _, _, err := d.m.verifyLocal(ctx, d.row, o)
		return ok, err
	case KindRemote:
		v, err := d.m.serviceByID(ctx, d.row.ServiceID)
		if errors.Is(err, gorm.ErrRecordNotFound) {
			httpx.Logger(ctx).ErrorContext(ctx, "yubikey: the device's validation service was deleted", "device", d.Key())
			return false, &auth.UserError{ID: "yubikey_service_error"}
		}
		if err != nil {
			return false, err
		}
		a, err := d.m.verifyRemote(ctx, v, d.Key(), o)
		if err != nil || a == nil {
			return false, err
		}
		if !a.HasCounters {
			return true, nil // the service's replay check is the only one
		}
		won, err := d.m.advance(ctx, d.m.s.DB(), d.row.ID, a.SessionCounter, a.SessionUse)
		if err == nil && !won {
			httpx.Logger(ctx).WarnContext(ctx, "yubikey: the validation service accepted an OTP whose counters are not new", "device", d.Key())
			d.m.s.RecordContext(ctx, auth.Event{Kind: auth.EventCounterRegressed, UserID: d.row.UserID, Device: d.Key(),
				Detail: fmt.Sprintf("validation service accepted YubiKey OTP counters %d/%d that are not new", a.SessionCounter, a.SessionUse)})
		}
		return won, err
	}
	return false, fmt.Errorf("yubikey: device %d has kind %q", d.row.ID, d.row.Kind)
}
