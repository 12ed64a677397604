package webauthn

import (
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	ginsessions "github.com/gin-contrib/sessions"
	"github.com/gin-gonic/gin"
	"github.com/go-webauthn/webauthn/protocol"
	gowebauthn "github.com/go-webauthn/webauthn/webauthn"
	"gorm.io/gorm"

	"github.com/gatehouse/gatehouse/auth"
	"github.com/gatehouse/gatehouse/internal/httpx"
	"github.com/gatehouse/gatehouse/internal/locale"
	"github.com/gatehouse/gatehouse/internal/render"
)

// passkeySessionKey marks a session started for a passkey sign-in, so the
// ceremony has a session to be bound to. It holds nothing secret.
const passkeySessionKey = "webauthn_passkey"

// Passkey begin requests allowed per client IP and minute (each may start
// a session record and a challenge row).
const passkeyBeginBudget = 60

// Routes adds the ceremony endpoints (JSON in, JSON out) and the keys page.
func (m *Method) Routes(r gin.IRouter) {
	r.POST(Base+"begin-registration/", m.beginRegistration)
	r.POST(Base+"begin-login/", m.beginLogin)
	r.POST(Base+"passkey/begin/", m.passkeyBegin)
	r.POST(Base+"passkey/finish/", m.passkeyFinish)
	g := r.Group(Base, m.s.OTPRequired(auth.GuardOptions{}))
	g.GET("", m.s.SudoRequired(""), m.keysPage)
	g.POST("add/", m.s.SudoRequired(Base), m.addKey)
	g.POST("remove/:id/", m.s.SudoRequired(Base), m.removeKey)
}

// jsonError answers a ceremony endpoint with a translated message.
func jsonError(c *gin.Context, status int, msgID, reason string) {
	refuse(c, status, locale.From(c).T(msgID), reason)
}

// refuse answers a ceremony endpoint with an already translated message.
func refuse(c *gin.Context, status int, text, reason string) {
	httpx.Logger(c.Request.Context()).Info("webauthn: request refused", "path", c.Request.URL.Path, "status", status, "reason", reason)
	c.Header("Cache-Control", "no-store")
	c.AbortWithStatusJSON(status, gin.H{"error": text})
}

// internal answers 500 for store errors: fail closed, the reason logged.
func internal(c *gin.Context, err error) {
	_ = c.Error(err)
	httpx.Logger(c.Request.Context()).Error("webauthn: internal error", "path", c.Request.URL.Path, "err", err)
	c.Header("Cache-Control", "no-store")
	c.AbortWithStatusJSON(http.StatusInternalServerError, gin.H{"error": locale.From(c).T("error_internal")})
}

// readJSON decodes a ceremony request: Content-Type application/json
// (which also keeps cross-site forms out), one JSON object (an empty body
// counts as {}), nothing after it. Anything else is a 4xx.
func readJSON(c *gin.Context, dst any) bool {
	if c.ContentType() != "application/json" {
		jsonError(c, http.StatusUnsupportedMediaType, "webauthn_bad_request", "content type "+c.ContentType())
		return false
	}
	dec := json.NewDecoder(c.Request.Body)
	if err := dec.Decode(dst); err != nil {
		if errors.Is(err, io.EOF) {
			return true
		}
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			jsonError(c, http.StatusRequestEntityTooLarge, "webauthn_bad_request", "body too large")
			return false
		}
		jsonError(c, http.StatusBadRequest, "webauthn_bad_request", "malformed JSON: "+err.Error())
		return false
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		jsonError(c, http.StatusBadRequest, "webauthn_bad_request", "data after the JSON object")
		return false
	}
	return true
}

// empty is the body of the begin endpoints: a JSON object, fields ignored.
type empty struct{}

// beginOptions is what every begin endpoint shares: the body, the relying
// party and the session binding.
func (m *Method) beginOptions(c *gin.Context) (inst *gowebauthn.WebAuthn, origin, binding string, ok bool) {
	if !readJSON(c, &empty{}) {
		return nil, "", "", false
	}
	rpID, origin, herr := m.relyingParty(c)
	if herr != nil {
		refuse(c, http.StatusBadRequest, herr.message(locale.From(c)), herr.Error())
		return nil, "", "", false
	}
	inst, err := m.instance(rpID, origin)
	if err != nil {
		jsonError(c, http.StatusBadRequest, "webauthn_bad_host", err.Error())
		return nil, "", "", false
	}
	binding = m.s.Binding(c)
	if binding == "" {
		jsonError(c, http.StatusForbidden, "webauthn_not_allowed", "no session")
		return nil, "", "", false
	}
	return inst, origin, binding, true
}

// beginRegistration starts registering a key for whoever may enrol: a
// verified user, or a fresh password step in forced enrolment. The user's
// keys are excluded, so an authenticator that holds one refuses.
func (m *Method) beginRegistration(c *gin.Context) {
	u := m.s.EnrollingUser(c)
	if u == nil {
		jsonError(c, http.StatusForbidden, "webauthn_not_allowed", "no enrolling user")
		return
	}
	wa, origin, binding, ok := m.beginOptions(c)
	if !ok {
		return
	}
	ctx := c.Request.Context()
	lu, rows, err := m.libUser(ctx, u, true)
	if err != nil {
		internal(c, err)
		return
	}
	creation, sd, err := wa.BeginRegistration(lu, gowebauthn.WithExclusions(m.descriptors(rows)),
		gowebauthn.WithRegistrationOrigin(origin))
	if err != nil {
		jsonError(c, http.StatusBadRequest, "webauthn_bad_host", libError(err))
		return
	}
	if err := m.putChallenge(ctx, purposeRegister, binding, u.ID, sd, creation.Response.Timeout); err != nil {
		internal(c, err)
		return
	}
	c.Header("Cache-Control", "no-store")
	c.JSON(http.StatusOK, creation)
}

// beginLogin starts the token step's ceremony for the pending login,
// allowing every key of the user.
func (m *Method) beginLogin(c *gin.Context) {
	u := m.s.LoginUser(c)
	if u == nil {
		jsonError(c, http.StatusForbidden, "webauthn_not_allowed", "no pending login")
		return
	}
	wa, origin, binding, ok := m.beginOptions(c)
	if !ok {
		return
	}
	ctx := c.Request.Context()
	lu, rows, err := m.libUser(ctx, u, false)
	if err != nil {
		internal(c, err)
		return
	}
	if len(rows) == 0 || len(lu.handle) == 0 {
		jsonError(c, http.StatusBadRequest, "webauthn_no_keys", "user has no keys")
		return
	}
	assertion, sd, err := wa.BeginLogin(lu, gowebauthn.WithAllowedCredentials(m.descriptors(rows)),
		gowebauthn.WithUserVerification(protocol.UserVerificationRequirement(m.cfg.UserVerification)),
		gowebauthn.WithLoginOrigin(origin))
	if err != nil {
		jsonError(c, http.StatusBadRequest, "webauthn_bad_host", libError(err))
		return
	}
	if err := m.putChallenge(ctx, purposeLogin, binding, u.ID, sd, assertion.Response.Timeout); err != nil {
		internal(c, err)
		return
	}
	c.Header("Cache-Control", "no-store")
	c.JSON(http.StatusOK, assertion)
}

// passkeyBegin starts a discoverable, user-verifying ceremony for an
// anonymous visitor of the login page.
func (m *Method) passkeyBegin(c *gin.Context) {
	if !m.cfg.PasskeyLogin {
		jsonError(c, http.StatusNotFound, "error_not_found", "passkey login is off")
		return
	}
	ctx := c.Request.Context()
	if err := m.s.Budget(ctx, "webauthn-passkey/"+c.ClientIP(), passkeyBeginBudget, time.Minute); err != nil {
		var te *auth.ThrottledError
		if errors.As(err, &te) {
			jsonError(c, http.StatusTooManyRequests, "webauthn_busy", "passkey begin budget")
			return
		}
		internal(c, err)
		return
	}
	// The ceremony is bound to the session: make sure there is one.
	sess := ginsessions.Default(c)
	if sess.ID() == "" {
		sess.Set(passkeySessionKey, true)
		if err := sess.Save(); err != nil {
			internal(c, err)
			return
		}
	}
	wa, origin, binding, ok := m.beginOptions(c)
	if !ok {
		return
	}
	assertion, sd, err := wa.BeginDiscoverableLogin(gowebauthn.WithUserVerification(protocol.VerificationRequired),
		gowebauthn.WithLoginOrigin(origin))
	if err != nil {
		jsonError(c, http.StatusBadRequest, "webauthn_bad_host", libError(err))
		return
	}
	if err := m.putChallenge(ctx, purposePasskey, binding, 0, sd, assertion.Response.Timeout); err != nil {
		internal(c, err)
		return
	}
	c.Header("Cache-Control", "no-store")
	c.JSON(http.StatusOK, assertion)
}

// passkeyFinishBody is the passkey sign-in's finishing post.
type passkeyFinishBody struct {
	Credential json.RawMessage `json:"credential"`
	Next       string          `json:"next"`
}

// passkeyFinish verifies a passkey assertion through the Service's
// throttled Verify and, on success, completes the login (both factors):
// the answer names where to go.
func (m *Method) passkeyFinish(c *gin.Context) {
	if !m.cfg.PasskeyLogin {
		jsonError(c, http.StatusNotFound, "error_not_found", "passkey login is off")
		return
	}
	var body passkeyFinishBody
	if !readJSON(c, &body) {
		return
	}
	ctx := c.Request.Context()
	binding := m.s.Binding(c)
	parsed, err := protocol.ParseCredentialRequestResponseBytes(body.Credential)
	if err != nil {
		jsonError(c, http.StatusBadRequest, "webauthn_bad_request", "malformed assertion: "+libError(err))
		return
	}
	var row Credential
	if err := m.db(ctx).Where("credential_hash = ? AND confirmed = ?", credentialHash(parsed.RawID), true).
		Limit(1).Find(&row).Error; err != nil {
		internal(c, err)
		return
	}
	var u *auth.User
	if row.ID != 0 {
		if u, err = m.user(ctx, row.UserID); err != nil {
			internal(c, err)
			return
		}
	}
	if u == nil || !u.IsActive {
		// One try per ceremony, whatever it presented.
		if err := m.discardChallenge(ctx, purposePasskey, binding); err != nil {
			internal(c, err)
			return
		}
		jsonError(c, http.StatusBadRequest, "webauthn_passkey_unknown", "unknown credential or inactive user")
		return
	}
	keys, err := m.keysDevice(ctx, u.ID)
	if err != nil || keys == nil {
		if err == nil {
			err = errors.New("webauthn: keys vanished")
		}
		internal(c, err)
		return
	}
	dev := &passkeyDevice{keysDevice: keys, binding: binding}
	if err := m.s.Verify(ctx, u, dev, string(body.Credential)); err != nil {
		l := locale.From(c)
		var te *auth.ThrottledError
		var ue *auth.UserError
		switch {
		case errors.As(err, &te):
			m.record(ctx, auth.Event{Kind: auth.EventThrottled, UserID: u.ID, Device: dev.Key(), Detail: "passkey sign-in"})
			c.Header("Cache-Control", "no-store")
			c.AbortWithStatusJSON(http.StatusTooManyRequests, gin.H{"error": throttleText(l, te)})
		case errors.As(err, &ue):
			m.record(ctx, auth.Event{Kind: auth.EventTokenFailed, UserID: u.ID, Device: dev.Key(), Detail: "passkey sign-in"})
			jsonError(c, http.StatusBadRequest, ue.ID, "passkey refused")
		default:
			internal(c, err)
		}
		return
	}
	sess := ginsessions.Default(c)
	sess.Delete(passkeySessionKey)
	if !m.s.CompleteLogin(c, u, dev) {
		if !c.Writer.Written() {
			jsonError(c, http.StatusForbidden, "webauthn_passkey_unknown", "login not completed")
		}
		return
	}
	c.Header("Cache-Control", "no-store")
	c.JSON(http.StatusOK, gin.H{"redirect": httpx.RedirectOr(body.Next, m.s.Config().LoginRedirectURL)})
}

// throttleText is the token step's throttle message, for JSON answers.
func throttleText(l *locale.Lang, te *auth.ThrottledError) string {
	if te.Locked {
		return l.T("account_locked", "Count", te.Failures)
	}
	secs := int((te.Wait + time.Second - 1) / time.Second)
	return l.T("throttled", "Count", te.Failures, "Seconds", secs)
}

// keyView is one key on the keys page.
type keyView struct {
	ID       uint
	Name     string
	Created  string
	LastUsed string
	Flagged  bool
}

// KeysPage is the keys page's data.
type KeysPage struct {
	Keys  []keyView
	Name  string // the add form's name, kept after an error
	Error string
}

func (m *Method) keysPage(c *gin.Context) { m.renderKeys(c, http.StatusOK, &KeysPage{}) }

func (m *Method) renderKeys(c *gin.Context, status int, d *KeysPage) {
	u := auth.UserFrom(c)
	l := locale.From(c)
	rows, err := m.credentials(c.Request.Context(), u.ID)
	if err != nil {
		m.s.Fail(c, http.StatusInternalServerError, "error_internal")
		return
	}
	for _, r := range rows {
		k := keyView{ID: r.ID, Name: r.Name, Created: r.CreatedAt.UTC().Format("2006-01-02"), Flagged: r.CloneWarning}
		if k.Name == "" {
			k.Name = l.T("webauthn_key_unnamed")
		}
		if r.LastUsedAt != nil {
			k.LastUsed = r.LastUsedAt.UTC().Format("2006-01-02 15:04")
		}
		d.Keys = append(d.Keys, k)
	}
	m.s.HTML(c, status, "account/webauthn.html", "", m.s.View(c, l.T("webauthn_keys_title"), d))
}

const maxNameLen = 64

// addKey finishes a registration started on the keys page: the browser
// posts the key's name and the attestation JSON as webauthn-token.
func (m *Method) addKey(c *gin.Context) {
	u := auth.UserFrom(c)
	ctx := c.Request.Context()
	name := strings.TrimSpace(c.PostForm("webauthn-name"))
	d := &KeysPage{Name: name}
	if utf8.RuneCountInString(name) > maxNameLen {
		d.Error = locale.From(c).T("webauthn_name_too_long", "Max", maxNameLen)
		m.renderKeys(c, http.StatusOK, d)
		return
	}
	token := strings.TrimSpace(c.PostForm("webauthn-token"))
	if token == "" {
		d.Error = locale.From(c).T("webauthn_add_no_key")
		m.renderKeys(c, http.StatusOK, d)
		return
	}
	cred, err := m.finishRegistration(ctx, m.s.Binding(c), u, token)
	var id uint
	if err == nil {
		id, err = m.storeNew(ctx, u.ID, name, cred)
	}
	if err != nil {
		var ue *auth.UserError
		switch {
		case errors.Is(err, errRefused):
			httpx.Logger(ctx).WarnContext(ctx, "webauthn: registration refused", "user", u.ID, "reason", err.Error())
			d.Error = locale.From(c).T("webauthn_invalid")
		case errors.As(err, &ue):
			d.Error = ue.Message(c)
		default:
			_ = c.Error(err)
			httpx.Logger(ctx).Error("webauthn: add key", "err", err)
			m.s.Fail(c, http.StatusInternalServerError, "error_internal")
			return
		}
		m.renderKeys(c, http.StatusOK, d)
		return
	}
	if err := m.s.DevicesChanged(ctx, nil, u.ID); err != nil {
		m.s.Fail(c, http.StatusInternalServerError, "error_internal")
		return
	}
	m.record(ctx, auth.Event{Kind: auth.EventDeviceAdded, UserID: u.ID, Device: deviceKey(id)})
	auth.Flash(c, locale.From(c).T("webauthn_added"))
	render.Redirect(c, Base)
}

// removeKey removes one key, unless it is the user's last way to pass the
// second factor (removing everything is the disable page's job).
func (m *Method) removeKey(c *gin.Context) {
	u := auth.UserFrom(c)
	ctx := c.Request.Context()
	id, err := strconv.ParseUint(c.Param("id"), 10, 32)
	if err != nil || id == 0 {
		m.s.Fail(c, http.StatusNotFound, "error_not_found")
		return
	}
	rows, err := m.credentials(ctx, u.ID)
	if err != nil {
		m.s.Fail(c, http.StatusInternalServerError, "error_internal")
		return
	}
	found := false
	for _, r := range rows {
		found = found || r.ID == uint(id)
	}
	if !found {
		m.s.Fail(c, http.StatusNotFound, "error_not_found")
		return
	}
	if len(rows) == 1 {
		ds, err := m.s.Devices(ctx, u.ID)
		if err != nil {
			m.s.Fail(c, http.StatusInternalServerError, "error_internal")
			return
		}
		other := false
		for _, dev := range ds {
			// Backup codes are the one method that is not a primary device.
			other = other || (dev.MethodCode() != Code && dev.MethodCode() != "backup")
		}
		if !other {
			m.renderKeys(c, http.StatusConflict, &KeysPage{Error: locale.From(c).T("webauthn_remove_last")})
			return
		}
	}
	var removed int64
	err = m.db(ctx).Transaction(func(tx *gorm.DB) error {
		res := tx.Where("id = ? AND user_id = ? AND confirmed = ?", id, u.ID, true).Delete(&Credential{})
		if res.Error != nil || res.RowsAffected == 0 {
			return res.Error
		}
		removed = res.RowsAffected
		return m.s.DevicesChanged(ctx, tx, u.ID)
	})
	if err != nil {
		m.s.Fail(c, http.StatusInternalServerError, "error_internal")
		return
	}
	if removed == 1 {
		m.record(ctx, auth.Event{Kind: auth.EventDeviceRemoved, UserID: u.ID, Device: deviceKey(uint(id))})
		auth.Flash(c, locale.From(c).T("webauthn_removed"))
	}
	render.Redirect(c, Base)
}
