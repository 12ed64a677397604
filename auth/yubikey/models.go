package yubikey

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"time"

	"gorm.io/gorm"
	"gorm.io/gorm/clause"
)

// DefaultService is the name of the validation service the setup wizard
// enrols keys against, as in the seed.
const DefaultService = "default"

// YubiCloudURL is Yubico's hosted validation service (protocol 2.0).
const YubiCloudURL = "https://api.yubico.com/wsapi/2.0/verify"

// ValidationService is a Yubico OTP validation service: YubiCloud or a
// self-hosted yubikey-val. Staff manage these in the admin; Migrate creates
// the one named "default" (pointing to YubiCloud) when it is missing.
//
// The API key is encrypted at rest: set it with Method.SetServiceKey, never
// by writing SealedAPIKey.
type ValidationService struct {
	ID uint `gorm:"primaryKey"`
	// Name identifies the service; "default" is the one setup uses.
	Name string `gorm:"size:32;not null;uniqueIndex"`
	// APIID is the client id the service issued (YubiCloud: get one at
	// https://upgrade.yubico.com/getapikey/).
	APIID string `gorm:"column:api_id;size:32;not null"`
	// SealedAPIKey is the encrypted HMAC key; empty: requests go unsigned
	// and only https protects them, so the URL must be https.
	SealedAPIKey []byte `gorm:"column:api_key" json:"-"`
	// URL is the verify endpoint, e.g. YubiCloudURL.
	URL string `gorm:"column:url;size:255;not null"`
	// UseHTTPS refuses to send anything to an http URL, even with a key.
	UseHTTPS bool `gorm:"column:use_https;not null;default:false"`
	// VerifySignature requires a valid response signature when there is
	// an API key. Turning it off leaves only https to trust.
	VerifySignature bool `gorm:"not null;default:false"`
}

// TableName is otp_yubikey_validation_service.
func (ValidationService) TableName() string { return "otp_yubikey_validation_service" }

// String is the service's name.
func (v *ValidationService) String() string { return v.Name }

// Validate checks the fields an administrator edits; errors name the field.
func (v *ValidationService) Validate() error {
	var errs []error
	if v.Name == "" || len(v.Name) > 32 {
		errs = append(errs, errors.New("name: 1 to 32 characters"))
	}
	if len(v.APIID) > 32 {
		errs = append(errs, errors.New("api id: at most 32 characters"))
	}
	if err := checkURL(v.URL); err != nil {
		errs = append(errs, fmt.Errorf("url: %w", err))
	} else if u, _ := url.Parse(v.URL); u.Scheme != "https" && (v.UseHTTPS || len(v.SealedAPIKey) == 0) {
		errs = append(errs, errors.New("url: must be https without an API key or with use https set"))
	}
	return errors.Join(errs...)
}

func checkURL(s string) error {
	u, err := url.Parse(s)
	if err != nil || u.Host == "" || (u.Scheme != "https" && u.Scheme != "http") || u.RawQuery != "" || u.Fragment != "" || u.User != nil {
		return fmt.Errorf("%q is not an absolute http(s) URL without query", s)
	}
	return nil
}

// Device kinds.
const (
	// KindRemote devices are verified by a validation service.
	KindRemote = "remote"
	// KindLocal devices are verified here with their AES key.
	KindLocal = "local"
	// kindPending marks the row a setup wizard fills once an OTP verified.
	kindPending = ""
)

// Device is a YubiKey of a user (django-otp-yubikey's RemoteYubikeyDevice
// and YubikeyDevice in one table). PublicID binds the device: an OTP of
// another key never reaches a validation service or a decryption.
type Device struct {
	ID        uint   `gorm:"primaryKey"`
	UserID    uint   `gorm:"not null;index"`
	Name      string `gorm:"size:64;not null"`
	Confirmed bool   `gorm:"not null;default:false"`
	// Kind is KindRemote or KindLocal ("" while a setup is pending).
	Kind string `gorm:"size:8;not null"`
	// PublicID is the key's modhex public id, the OTP's first characters.
	PublicID string `gorm:"size:32;not null;index"`
	// ServiceID is the validation service of a remote device.
	ServiceID uint `gorm:"not null"`
	// SealedKey holds a local device's AES-128 key and 6-byte private id,
	// encrypted at rest.
	SealedKey []byte `json:"-"`
	// UseCounter and SessionCounter are the counters of the last accepted
	// OTP (-1: none yet); an OTP is accepted only when its counters are
	// strictly greater, written with a conditional UPDATE. Remote devices
	// keep them when the service reports counters.
	UseCounter     int `gorm:"not null"`
	SessionCounter int `gorm:"not null"`
	CreatedAt      time.Time
}

// TableName is otp_yubikey_device.
func (Device) TableName() string { return "otp_yubikey_device" }

// Seed creates the validation service named "default" when it is missing,
// with the method's configured defaults (YubiCloud). It runs from
// auth.Service.Migrate; two instances migrating at once create one row.
func (m *Method) Seed(ctx context.Context, db *gorm.DB) error {
	d := m.cfg.Service
	v := ValidationService{Name: DefaultService, APIID: d.APIID, URL: d.URL, UseHTTPS: d.UseHTTPS, VerifySignature: true}
	if v.URL == "" {
		v.URL = YubiCloudURL
	}
	if len(d.APIKey) > 0 {
		v.SealedAPIKey = m.s.Seal(d.APIKey, serviceSealContext)
	}
	return db.WithContext(ctx).Clauses(clause.OnConflict{DoNothing: true}).Create(&v).Error
}
