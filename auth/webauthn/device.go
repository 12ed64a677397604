package webauthn

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/gatehouse/gatehouse/auth"
	"github.com/gatehouse/gatehouse/internal/httpx"
	"github.com/gatehouse/gatehouse/internal/locale"
)

// keysDevice stands for all of a user's confirmed keys at the login: the
// ceremony allows every key, and whichever the user presents verifies.
// Its key names the user's oldest key ("webauthn/<id>").
type keysDevice struct {
	m      *Method
	userID uint
	first  uint
	count  int
}

func (d *keysDevice) Key() string                      { return deviceKey(d.first) }
func (d *keysDevice) MethodCode() string               { return Code }
func (d *keysDevice) Label(l *locale.Lang) string      { return l.T("webauthn_device") }
func (d *keysDevice) ActionText(l *locale.Lang) string { return l.T("webauthn_action") }
func (d *keysDevice) ThrottleFactor() time.Duration    { return d.m.cfg.ThrottleFactor }

// TokenPartial draws the token step: a button that runs the ceremony and
// posts the assertion as token-otp_token.
func (d *keysDevice) TokenPartial() string { return "token-webauthn" }

// VerifyToken verifies the assertion JSON against the login challenge of
// the request's session (auth.RequestInfoFrom(ctx).Binding), once.
func (d *keysDevice) VerifyToken(ctx context.Context, token string) (bool, error) {
	_, err := d.m.verifyAssertion(ctx, purposeLogin, auth.RequestInfoFrom(ctx).Binding, d.userID, strings.TrimSpace(token))
	return tokenResult(ctx, d.userID, err)
}

// passkeyDevice is the keys device for a passkey sign-in: same key and
// throttle, but the discoverable ceremony of an explicit binding.
type passkeyDevice struct {
	*keysDevice
	binding string
}

func (d *passkeyDevice) VerifyToken(ctx context.Context, token string) (bool, error) {
	_, err := d.m.verifyAssertion(ctx, purposePasskey, d.binding, d.userID, strings.TrimSpace(token))
	return tokenResult(ctx, d.userID, err)
}

// pendingDevice is the setup wizard's key being registered: its token is
// the attestation JSON.
type pendingDevice struct {
	m   *Method
	row *Credential
}

func (d *pendingDevice) Key() string                      { return deviceKey(d.row.ID) }
func (d *pendingDevice) MethodCode() string               { return Code }
func (d *pendingDevice) Label(l *locale.Lang) string      { return l.T("webauthn_device") }
func (d *pendingDevice) ActionText(l *locale.Lang) string { return l.T("webauthn_action") }
func (d *pendingDevice) ThrottleFactor() time.Duration    { return d.m.cfg.ThrottleFactor }

// VerifyToken verifies the attestation against the register challenge of
// the request's session and stores the credential in the pending row;
// the wizard then confirms it.
func (d *pendingDevice) VerifyToken(ctx context.Context, token string) (bool, error) {
	u, err := d.m.user(ctx, d.row.UserID)
	if err != nil {
		return false, err
	}
	cred, err := d.m.finishRegistration(ctx, auth.RequestInfoFrom(ctx).Binding, u, strings.TrimSpace(token))
	if err == nil {
		err = d.m.storePending(ctx, d.row, cred)
	}
	return tokenResult(ctx, u.ID, err)
}

// tokenResult maps a ceremony's outcome to VerifyToken's: a refused
// ceremony is an invalid token that carries a WebAuthn message of its own
// (both auth.ErrInvalidToken and a *auth.UserError); store errors pass.
func tokenResult(ctx context.Context, userID uint, err error) (bool, error) {
	var ue *auth.UserError
	switch {
	case err == nil:
		return true, nil
	case errors.Is(err, errRefused):
		httpx.Logger(ctx).WarnContext(ctx, "webauthn: ceremony refused", "user", userID, "reason", err.Error())
		return false, fmt.Errorf("%w: %w", auth.ErrInvalidToken, &auth.UserError{ID: "webauthn_invalid"})
	case errors.As(err, &ue):
		httpx.Logger(ctx).WarnContext(ctx, "webauthn: ceremony refused", "user", userID, "reason", ue.ID)
		return false, fmt.Errorf("%w: %w", auth.ErrInvalidToken, ue)
	}
	return false, err
}
