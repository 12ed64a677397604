package webauthn

import (
	"crypto/sha256"
	"encoding/hex"
	"strings"
	"time"

	"github.com/go-webauthn/webauthn/protocol"
	gowebauthn "github.com/go-webauthn/webauthn/webauthn"
)

// Credential is one registered WebAuthn credential: a security key or a
// passkey. A row starts unconfirmed (no credential yet) when the setup
// wizard's webauthn step begins, and is confirmed once the registration
// ceremony verified. CredentialHash, the SHA-256 of the credential id, is
// unique across all users: the same authenticator credential can never be
// registered twice (an index on a short hash works on every database; the
// raw id can be up to 1023 bytes).
type Credential struct {
	ID        uint   `gorm:"primaryKey"`
	UserID    uint   `gorm:"not null;index"`
	Name      string `gorm:"size:64;not null;default:''"`
	Confirmed bool   `gorm:"not null;default:false"`
	// CredentialID is the raw credential id; NULL while unconfirmed.
	CredentialID   []byte  `gorm:"column:credential_id"`
	CredentialHash *string `gorm:"column:credential_hash;size:64;uniqueIndex"`
	PublicKey      []byte  `gorm:"column:public_key"` // COSE key
	SignCount      int64   `gorm:"column:sign_count;not null;default:0"`
	// Uses counts verified assertions; it also makes every counter update
	// change the row (MySQL counts only changed rows as affected).
	Uses       int64  `gorm:"column:uses;not null;default:0"`
	Transports string `gorm:"column:transports;size:128;not null;default:''"` // comma-separated
	AAGUID     []byte `gorm:"column:aaguid"`
	Flags      int    `gorm:"column:flags;not null;default:0"` // go-webauthn CredentialFlags as a byte
	AttType    string `gorm:"column:att_type;size:32;not null;default:''"`
	AttFormat  string `gorm:"column:att_format;size:32;not null;default:''"`
	// CloneWarning is set when the key once presented a sign counter that
	// went backwards (the attempt was refused and recorded).
	CloneWarning bool `gorm:"column:clone_warning;not null;default:false"`
	CreatedAt    time.Time
	LastUsedAt   *time.Time `gorm:"column:last_used_at"`
}

// TableName is otp_webauthn_device.
func (Credential) TableName() string { return "otp_webauthn_device" }

// credentialHash is the hex SHA-256 of a credential id.
func credentialHash(id []byte) string {
	h := sha256.Sum256(id)
	return hex.EncodeToString(h[:])
}

// libCredential converts a row for go-webauthn.
func (c *Credential) libCredential() gowebauthn.Credential {
	var ts []protocol.AuthenticatorTransport
	for _, t := range strings.Split(c.Transports, ",") {
		if t != "" {
			ts = append(ts, protocol.AuthenticatorTransport(t))
		}
	}
	return gowebauthn.Credential{
		ID:                c.CredentialID,
		PublicKey:         c.PublicKey,
		AttestationType:   c.AttType,
		AttestationFormat: c.AttFormat,
		Transport:         ts,
		Flags:             gowebauthn.CredentialFlagsFromMsgpByte(byte(c.Flags)),
		Authenticator: gowebauthn.Authenticator{
			AAGUID:    c.AAGUID,
			SignCount: uint32(c.SignCount),
		},
	}
}

// userHandle is a user's WebAuthn user handle: 32 random bytes (hex), not
// derived from the user id or name, stable for the user's lifetime.
type userHandle struct {
	UserID uint   `gorm:"primaryKey;autoIncrement:false"`
	Handle string `gorm:"size:64;not null;uniqueIndex"`
}

func (userHandle) TableName() string { return "otp_webauthn_user" }

// Ceremony purposes.
const (
	purposeRegister = "register" // setup wizard or the keys page
	purposeLogin    = "login"    // the login wizard's token step
	purposePasskey  = "passkey"  // passkey sign-in
)

// challenge is the server-side state of one ceremony: go-webauthn's
// SessionData, keyed by purpose and the session binding (one live
// ceremony per purpose and session; a new begin replaces the old). It is
// consumed by a conditional DELETE, so it verifies at most once under any
// concurrency and across instances, and it expires by the service clock.
type challenge struct {
	ID        uint      `gorm:"primaryKey"`
	Purpose   string    `gorm:"size:16;not null;uniqueIndex:idx_webauthn_challenge"`
	Binding   string    `gorm:"size:64;not null;uniqueIndex:idx_webauthn_challenge"`
	UserID    uint      `gorm:"not null;default:0"` // 0 for passkey sign-in
	Challenge string    `gorm:"size:128;not null"`  // base64url, for the conditional DELETE
	Session   string    `gorm:"type:text;not null"` // SessionData as JSON
	ExpiresAt time.Time `gorm:"not null;index"`
}

func (challenge) TableName() string { return "otp_webauthn_challenge" }
