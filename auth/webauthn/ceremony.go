package webauthn

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"strings"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/go-webauthn/webauthn/protocol"
	gowebauthn "github.com/go-webauthn/webauthn/webauthn"
	"gorm.io/gorm"
	"gorm.io/gorm/clause"

	"github.com/gatehouse/gatehouse/auth"
	"github.com/gatehouse/gatehouse/internal/locale"
)

// errRefused is a ceremony that did not verify: malformed, wrong origin or
// RP ID, missing user presence or verification, bad signature, unknown,
// replayed or expired challenge. The user sees one message; the log gets
// the reason.
var errRefused = errors.New("webauthn: refused")

func refused(format string, args ...any) error {
	return fmt.Errorf("%w: %s", errRefused, fmt.Sprintf(format, args...))
}

// hostError: the request's host cannot be the relying party. It carries
// the message the user sees, which says what is wrong: the host is an IP
// address (no RP ID configured), or it is not the configured RP ID.
type hostError struct {
	msgID      string // webauthn_bad_host or webauthn_rp_mismatch
	host, rpID string
	reason     string // for the log
}

func (e *hostError) Error() string { return "webauthn: host is not the relying party: " + e.reason }

// message is the error in the user's language, naming both names.
func (e *hostError) message(l *locale.Lang) string {
	return l.T(e.msgID, "Host", e.host, "RPID", e.rpID)
}

// relyingParty returns the RP ID and origin of a request: the configured
// RP ID (the host must be it or a subdomain) or the request's host without
// its port, and the scheme and host the browser used.
func (m *Method) relyingParty(c *gin.Context) (rpID, origin string, err *hostError) {
	host := strings.ToLower(c.Request.Host)
	hostname := host
	if h, _, err := net.SplitHostPort(host); err == nil {
		hostname = h
	}
	hostname = strings.TrimSuffix(hostname, ".")
	rpID = m.cfg.RPID
	if rpID == "" {
		rpID = hostname
	} else if hostname != rpID && !strings.HasSuffix(hostname, "."+rpID) {
		return "", "", &hostError{msgID: "webauthn_rp_mismatch", host: hostname, rpID: rpID,
			reason: fmt.Sprintf("%q is not %q or a subdomain of it", hostname, rpID)}
	}
	if err := protocol.ValidateRPID(rpID); err != nil || hostname == "" {
		return "", "", &hostError{msgID: "webauthn_bad_host", host: hostname, rpID: rpID,
			reason: fmt.Sprintf("%q: %v", hostname, err)}
	}
	scheme := "http"
	if m.s.IsHTTPS(c.Request) {
		scheme = "https"
	}
	return rpID, scheme + "://" + host, nil
}

// instance is go-webauthn for one RP ID and origin.
func (m *Method) instance(rpID, origin string) (*gowebauthn.WebAuthn, error) {
	rk := protocol.ResidentKeyRequirementDiscouraged
	if m.cfg.PasskeyLogin {
		rk = protocol.ResidentKeyRequirementPreferred
	}
	no := false
	return gowebauthn.New(&gowebauthn.Config{
		RPID:                  rpID,
		RPDisplayName:         m.cfg.RPName,
		RPOrigins:             []string{origin},
		AttestationPreference: protocol.ConveyancePreference(m.cfg.Attestation),
		AuthenticatorSelection: protocol.AuthenticatorSelection{
			AuthenticatorAttachment: protocol.AuthenticatorAttachment(m.cfg.Attachment),
			ResidentKey:             rk,
			RequireResidentKey:      &no,
			UserVerification:        protocol.UserVerificationRequirement(m.cfg.UserVerification),
		},
		// The library's own (wall-clock) check stays on; the stored
		// challenge also expires by the service clock.
		Timeouts: gowebauthn.TimeoutsConfig{
			Login:        gowebauthn.TimeoutConfig{Enforce: true},
			Registration: gowebauthn.TimeoutConfig{Enforce: true},
		},
	})
}

// libUser is a Gatehouse user as go-webauthn sees it.
type libUser struct {
	u      *auth.User
	handle []byte
	creds  []gowebauthn.Credential
}

func (u *libUser) WebAuthnID() []byte   { return u.handle }
func (u *libUser) WebAuthnName() string { return u.u.Username }
func (u *libUser) WebAuthnDisplayName() string {
	if n := strings.TrimSpace(u.u.FirstName + " " + u.u.LastName); n != "" {
		return n
	}
	return u.u.Username
}
func (u *libUser) WebAuthnCredentials() []gowebauthn.Credential { return u.creds }

func (m *Method) user(ctx context.Context, id uint) (*auth.User, error) {
	var u auth.User
	if err := m.db(ctx).Where("id = ?", id).Take(&u).Error; err != nil {
		return nil, err
	}
	return &u, nil
}

// credentials are the user's confirmed keys, oldest first.
func (m *Method) credentials(ctx context.Context, userID uint) ([]Credential, error) {
	var rows []Credential
	err := m.db(ctx).Where("user_id = ? AND confirmed = ?", userID, true).Order("id").Find(&rows).Error
	return rows, err
}

// handle returns the user's WebAuthn user handle, creating it when asked.
func (m *Method) handle(ctx context.Context, userID uint, create bool) ([]byte, error) {
	for range 2 {
		var h userHandle
		if err := m.db(ctx).Where("user_id = ?", userID).Limit(1).Find(&h).Error; err != nil {
			return nil, err
		}
		if h.UserID != 0 {
			return hex.DecodeString(h.Handle)
		}
		if !create {
			return nil, nil
		}
		b := make([]byte, 32)
		if _, err := rand.Read(b); err != nil {
			return nil, err
		}
		// Two first registrations at once: the first insert wins, both read it.
		if err := m.db(ctx).Clauses(clause.OnConflict{DoNothing: true}).
			Create(&userHandle{UserID: userID, Handle: hex.EncodeToString(b)}).Error; err != nil {
			return nil, err
		}
	}
	return nil, errors.New("webauthn: user handle not stored")
}

func (m *Method) libUser(ctx context.Context, u *auth.User, create bool) (*libUser, []Credential, error) {
	h, err := m.handle(ctx, u.ID, create)
	if err != nil {
		return nil, nil, err
	}
	rows, err := m.credentials(ctx, u.ID)
	if err != nil {
		return nil, nil, err
	}
	lu := &libUser{u: u, handle: h}
	for i := range rows {
		lu.creds = append(lu.creds, rows[i].libCredential())
	}
	return lu, rows, nil
}

// descriptors lists credentials for allow and exclude lists; the
// preferred transports, when set, replace each key's own.
func (m *Method) descriptors(rows []Credential) []protocol.CredentialDescriptor {
	out := make([]protocol.CredentialDescriptor, 0, len(rows))
	for i := range rows {
		lc := rows[i].libCredential()
		d := lc.Descriptor()
		if len(m.cfg.PreferredTransports) > 0 {
			d.Transport = nil
			for _, t := range m.cfg.PreferredTransports {
				d.Transport = append(d.Transport, protocol.AuthenticatorTransport(t))
			}
		}
		out = append(out, d)
	}
	return out
}

// putChallenge stores a ceremony's state under purpose and binding,
// replacing an earlier one; it expires by the service clock after the
// ceremony's timeout. Expired rows of any session are swept on the way.
func (m *Method) putChallenge(ctx context.Context, purpose, binding string, userID uint, sd *gowebauthn.SessionData, timeoutMS int) error {
	if binding == "" {
		return errors.New("webauthn: no session to bind the ceremony to")
	}
	data, err := json.Marshal(sd)
	if err != nil {
		return err
	}
	now := m.s.Now()
	if err := m.db(ctx).Where("expires_at < ?", now).Delete(&challenge{}).Error; err != nil {
		return err
	}
	row := challenge{Purpose: purpose, Binding: binding, UserID: userID, Challenge: sd.Challenge,
		Session: string(data), ExpiresAt: now.Add(time.Duration(timeoutMS) * time.Millisecond)}
	return m.db(ctx).Clauses(clause.OnConflict{
		Columns:   []clause.Column{{Name: "purpose"}, {Name: "binding"}},
		DoUpdates: clause.AssignmentColumns([]string{"user_id", "challenge", "session", "expires_at"}),
	}).Create(&row).Error
}

// takeChallenge consumes the ceremony state of purpose and binding. Of
// two requests presenting it, exactly one gets it (conditional DELETE);
// an expired one is consumed and refused.
func (m *Method) takeChallenge(ctx context.Context, purpose, binding string) (*challenge, *gowebauthn.SessionData, error) {
	if binding == "" {
		return nil, nil, refused("no session binding")
	}
	var row challenge
	if err := m.db(ctx).Where("purpose = ? AND binding = ?", purpose, binding).Limit(1).Find(&row).Error; err != nil {
		return nil, nil, err
	}
	if row.ID == 0 {
		return nil, nil, refused("no %s challenge for this session (never begun, used or replaced)", purpose)
	}
	res := m.db(ctx).Where("id = ? AND challenge = ?", row.ID, row.Challenge).Delete(&challenge{})
	if res.Error != nil {
		return nil, nil, res.Error
	}
	if res.RowsAffected != 1 {
		return nil, nil, refused("%s challenge already used by another request", purpose)
	}
	if !m.s.Now().Before(row.ExpiresAt) {
		return nil, nil, refused("%s challenge expired at %s", purpose, row.ExpiresAt.UTC().Format(time.RFC3339))
	}
	var sd gowebauthn.SessionData
	if err := json.Unmarshal([]byte(row.Session), &sd); err != nil {
		return nil, nil, fmt.Errorf("webauthn: stored ceremony state: %w", err)
	}
	return &row, &sd, nil
}

// discardChallenge consumes a ceremony that cannot go on (unknown key).
func (m *Method) discardChallenge(ctx context.Context, purpose, binding string) error {
	if binding == "" {
		return nil
	}
	return m.db(ctx).Where("purpose = ? AND binding = ?", purpose, binding).Delete(&challenge{}).Error
}

// libError describes a go-webauthn error for the log.
func libError(err error) string {
	var pe *protocol.Error
	if errors.As(err, &pe) {
		if pe.DevInfo != "" {
			return pe.Details + ": " + pe.DevInfo
		}
		return pe.Details
	}
	return err.Error()
}

// finishRegistration verifies an attestation (the JSON of
// credential.toJSON()) against the register challenge of binding, for u.
// The credential is returned, not stored. A credential already registered
// (to anyone) is a *auth.UserError.
func (m *Method) finishRegistration(ctx context.Context, binding string, u *auth.User, token string) (*gowebauthn.Credential, error) {
	parsed, err := protocol.ParseCredentialCreationResponseBytes([]byte(token))
	if err != nil {
		// The challenge stays: a garbled post does not cost the ceremony,
		// and without a valid signature it cannot be used anyway.
		return nil, refused("malformed attestation: %s", libError(err))
	}
	ch, sd, err := m.takeChallenge(ctx, purposeRegister, binding)
	if err != nil {
		return nil, err
	}
	if ch.UserID != u.ID {
		return nil, refused("register challenge belongs to user %d, not %d", ch.UserID, u.ID)
	}
	wa, err := m.instance(sd.RelyingPartyID, sd.Origin)
	if err != nil {
		return nil, refused("relying party %q %q: %v", sd.RelyingPartyID, sd.Origin, err)
	}
	lu, _, err := m.libUser(ctx, u, false)
	if err != nil {
		return nil, err
	}
	cred, err := wa.CreateCredential(lu, *sd, parsed)
	if err != nil {
		return nil, refused("registration: %s", libError(err))
	}
	if err := m.checkRoots(parsed, m.s.Now()); err != nil {
		return nil, refused("attestation: %v", err)
	}
	var n int64
	if err := m.db(ctx).Model(&Credential{}).Where("credential_hash = ?", credentialHash(cred.ID)).Count(&n).Error; err != nil {
		return nil, err
	}
	if n > 0 {
		return nil, &auth.UserError{ID: "webauthn_duplicate"}
	}
	return cred, nil
}

// credentialColumns are a verified credential's stored fields.
func credentialColumns(cred *gowebauthn.Credential) map[string]any {
	ts := make([]string, 0, len(cred.Transport))
	for _, t := range cred.Transport {
		ts = append(ts, string(t))
	}
	transports := strings.Join(ts, ",")
	if len(transports) > 128 {
		transports = ""
	}
	return map[string]any{
		"credential_id":   cred.ID,
		"credential_hash": credentialHash(cred.ID),
		"public_key":      cred.PublicKey,
		"sign_count":      int64(cred.Authenticator.SignCount),
		"transports":      transports,
		"aaguid":          cred.Authenticator.AAGUID,
		"flags":           int(cred.Flags.MsgpByte()),
		"att_type":        truncate(cred.AttestationType, 32),
		"att_format":      truncate(cred.AttestationFormat, 32),
	}
}

func truncate(s string, n int) string {
	if len(s) > n {
		return s[:n]
	}
	return s
}

// storeNew saves a verified credential as a confirmed key of userID.
func (m *Method) storeNew(ctx context.Context, userID uint, name string, cred *gowebauthn.Credential) (uint, error) {
	row := Credential{UserID: userID, Name: name, Confirmed: true, CreatedAt: m.s.Now()}
	err := m.db(ctx).Transaction(func(tx *gorm.DB) error {
		if err := tx.Create(&row).Error; err != nil {
			return err
		}
		return tx.Model(&Credential{}).Where("id = ?", row.ID).Updates(credentialColumns(cred)).Error
	})
	if errors.Is(err, gorm.ErrDuplicatedKey) {
		return 0, &auth.UserError{ID: "webauthn_duplicate"}
	}
	return row.ID, err
}

// storePending fills the wizard's unconfirmed row with a verified credential.
func (m *Method) storePending(ctx context.Context, row *Credential, cred *gowebauthn.Credential) error {
	res := m.db(ctx).Model(&Credential{}).
		Where("id = ? AND user_id = ? AND confirmed = ? AND credential_hash IS NULL", row.ID, row.UserID, false).
		Updates(credentialColumns(cred))
	if errors.Is(res.Error, gorm.ErrDuplicatedKey) {
		return &auth.UserError{ID: "webauthn_duplicate"}
	}
	if res.Error != nil {
		return res.Error
	}
	if res.RowsAffected != 1 {
		return refused("pending key %d was replaced or already filled", row.ID)
	}
	return nil
}

// verifyAssertion checks an assertion (the JSON of credential.toJSON())
// against the purpose's challenge of binding, for the keys of userID, and
// moves the key's sign counter forward atomically. A counter that went
// backwards is refused, recorded as EventCounterRegressed and flagged.
func (m *Method) verifyAssertion(ctx context.Context, purpose, binding string, userID uint, token string) (*Credential, error) {
	parsed, err := protocol.ParseCredentialRequestResponseBytes([]byte(token))
	if err != nil {
		return nil, refused("malformed assertion: %s", libError(err))
	}
	ch, sd, err := m.takeChallenge(ctx, purpose, binding)
	if err != nil {
		return nil, err
	}
	if purpose == purposeLogin && ch.UserID != userID {
		return nil, refused("login challenge belongs to user %d, not %d", ch.UserID, userID)
	}
	wa, err := m.instance(sd.RelyingPartyID, sd.Origin)
	if err != nil {
		return nil, refused("relying party %q %q: %v", sd.RelyingPartyID, sd.Origin, err)
	}
	u, err := m.user(ctx, userID)
	if err != nil {
		return nil, err
	}
	lu, rows, err := m.libUser(ctx, u, false)
	if err != nil {
		return nil, err
	}
	if len(lu.handle) == 0 || len(rows) == 0 {
		return nil, refused("user %d has no keys", userID)
	}
	var got *gowebauthn.Credential
	if purpose == purposePasskey {
		_, got, err = wa.ValidatePasskeyLogin(func(rawID, handle []byte) (gowebauthn.User, error) {
			if !bytes.Equal(handle, lu.handle) {
				return nil, errors.New("user handle is not the key owner's")
			}
			return lu, nil
		}, *sd, parsed)
	} else {
		got, err = wa.ValidateLogin(lu, *sd, parsed)
	}
	if err != nil {
		return nil, refused("%s assertion: %s", purpose, libError(err))
	}
	var row *Credential
	for i := range rows {
		if bytes.Equal(rows[i].CredentialID, got.ID) {
			row = &rows[i]
		}
	}
	if row == nil {
		return nil, refused("verified credential is not among the user's keys")
	}
	// Belt and braces: the library checks UV when the ceremony required it.
	if (purpose == purposePasskey || sd.UserVerification == protocol.VerificationRequired) &&
		!parsed.Response.AuthenticatorData.Flags.HasUserVerified() {
		return nil, refused("user verification required")
	}
	presented := parsed.Response.AuthenticatorData.Counter
	if got.Authenticator.CloneWarning {
		m.record(ctx, auth.Event{Kind: auth.EventCounterRegressed, UserID: userID, Device: deviceKey(row.ID),
			Detail: fmt.Sprintf("sign count went from %d to %d: the key may have been cloned; refused", row.SignCount, presented)})
		if err := m.db(ctx).Model(&Credential{}).Where("id = ?", row.ID).Update("clone_warning", true).Error; err != nil {
			return nil, err
		}
		return nil, &auth.UserError{ID: "webauthn_counter_regressed"}
	}
	now := m.s.Now()
	res := m.db(ctx).Model(&Credential{}).Where("id = ? AND sign_count = ?", row.ID, row.SignCount).
		Updates(map[string]any{"sign_count": int64(got.Authenticator.SignCount), "flags": int(got.Flags.MsgpByte()),
			"last_used_at": now, "uses": gorm.Expr("uses + 1")})
	if res.Error != nil {
		return nil, res.Error
	}
	if res.RowsAffected != 1 {
		return nil, refused("key %d was used concurrently (sign count moved)", row.ID)
	}
	row.SignCount, row.LastUsedAt = int64(got.Authenticator.SignCount), &now
	return row, nil
}

// Prune deletes expired ceremony challenges (auth.Pruner): an abandoned
// ceremony leaves its row until then.
func (m *Method) Prune(ctx context.Context) (int64, error) {
	res := m.db(ctx).Where("expires_at < ?", m.s.Now()).Delete(&challenge{})
	return res.RowsAffected, res.Error
}
