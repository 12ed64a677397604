package auth

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"time"

	ginsessions "github.com/gin-contrib/sessions"
	"github.com/gin-gonic/gin"

	"github.com/gatehouse/gatehouse/auth/session"
	"github.com/gatehouse/gatehouse/internal/httpx"
	"github.com/gatehouse/gatehouse/internal/locale"
	"github.com/gatehouse/gatehouse/internal/render"
)

// Login wizard steps, as in the seed.
const (
	stepAuth   = "auth"
	stepToken  = "token"
	stepBackup = "backup"
)

// ErrInvalidToken means a token did not verify.
var ErrInvalidToken = errors.New("invalid token")

// choice is a button that picks another device at the token step.
type choice struct{ Key, Text string }

// loginData is the login page's template data.
type loginData struct {
	Step      string
	Next      string
	Username  string
	Error     string
	Message   string
	Device    string // label of the device the token step asks for
	Partial   string // template of the token form fields
	Others    []choice
	HasBackup bool
	// Remember is the "remember this browser" checkbox label; "" hides it.
	Remember        string
	RememberChecked bool
}

// pendingUser returns the user who passed the password step in this
// session, with when; nil when there is none, it is stale, or the
// credentials changed since.
func (s *Service) pendingUser(c *gin.Context, sess ginsessions.Session) (*User, time.Time) {
	uid, _ := sess.Get(kLoginUID).(int64)
	at, _ := sess.Get(kLoginAt).(int64)
	if uid == 0 {
		return nil, time.Time{}
	}
	when := time.Unix(at, 0)
	if s.cfg.LoginTimeout > 0 && s.clock.Now().Sub(when) > s.cfg.LoginTimeout {
		return nil, when
	}
	var u User
	if err := s.db.WithContext(c.Request.Context()).Where("id = ?", uid).Take(&u).Error; err != nil {
		return nil, when
	}
	if !u.IsActive || u.Epoch != sess.Get(kLoginEpoch) || u.DeviceEpoch != sess.Get(kLoginDevs) {
		return nil, when
	}
	return &u, when
}

func clearLogin(sess ginsessions.Session) {
	for _, k := range []string{kLoginUID, kLoginEpoch, kLoginDevs, kLoginAt, kLoginStep, kLoginDevice, kLoginNext,
		kSetupStep, kSetupMethod, kSetupDevice} {
		sess.Delete(k)
	}
}

// loginState is the wizard as the session has it.
type loginState struct {
	step    string
	user    *User
	device  Device
	next    string
	expired bool
}

func (s *Service) loginState(c *gin.Context, sess ginsessions.Session) (*loginState, error) {
	st := &loginState{step: stepAuth}
	u, _ := s.pendingUser(c, sess)
	if u == nil {
		st.expired = sess.Get(kLoginUID) != nil
		return st, nil
	}
	st.user = u
	st.next, _ = sess.Get(kLoginNext).(string)
	st.step, _ = sess.Get(kLoginStep).(string)
	key, _ := sess.Get(kLoginDevice).(string)
	d, err := s.deviceByKey(c.Request.Context(), u.ID, key)
	if err != nil {
		return nil, err
	}
	if d == nil {
		if d, err = s.DefaultDevice(c.Request.Context(), u.ID); err != nil {
			return nil, err
		}
	}
	st.device = d
	if d == nil && st.step != stepAuth {
		// The devices went away mid-login: enrol again from the password step.
		st.step, st.user = stepAuth, nil
	}
	return st, nil
}

func (s *Service) loginGet(c *gin.Context) {
	next := c.Query("next")
	if UserFrom(c) != nil {
		render.Redirect(c, httpx.RedirectOr(next, s.cfg.LoginRedirectURL))
		return
	}
	sess := ginsessions.Default(c)
	st, err := s.loginState(c, sess)
	if err != nil {
		s.internalError(c, err)
		return
	}
	if st.expired {
		clearLogin(sess)
		if !s.saveSession(c, sess) {
			return
		}
	}
	d := &loginData{Step: st.step, Next: next}
	if st.user != nil && next == "" {
		d.Next = st.next
	}
	if st.expired {
		d.Message = locale.From(c).T("login_timeout")
	}
	s.renderLogin(c, http.StatusOK, st, d)
}

func validLoginStep(step string) bool {
	return step == stepAuth || step == stepToken || step == stepBackup
}

func (s *Service) loginPost(c *gin.Context) {
	posted := c.PostForm("login_view-current_step")
	if !validLoginStep(posted) {
		s.fail(c, http.StatusBadRequest, "error_bad_step")
		return
	}
	if UserFrom(c) != nil {
		render.Redirect(c, httpx.RedirectOr(c.PostForm("next"), s.cfg.LoginRedirectURL))
		return
	}
	sess := ginsessions.Default(c)
	st, err := s.loginState(c, sess)
	if err != nil {
		s.internalError(c, err)
		return
	}
	l := locale.From(c)
	d := &loginData{Step: st.step, Next: c.PostForm("next")}
	if st.expired {
		clearLogin(sess)
		if !s.saveSession(c, sess) {
			return
		}
		d.Message = l.T("login_timeout")
		s.renderLogin(c, http.StatusOK, st, d)
		return
	}
	if to := c.PostForm("wizard_goto_step"); to != "" {
		s.loginGoto(c, sess, st, d, to)
		return
	}
	if key := c.PostForm("challenge_device"); key != "" && st.step == stepToken {
		s.loginChoose(c, sess, st, d, key)
		return
	}
	if posted != st.step {
		// The server's step wins: never skip one because the form said so.
		s.renderLogin(c, http.StatusOK, st, d)
		return
	}
	switch st.step {
	case stepAuth:
		s.loginPassword(c, sess, st, d)
	case stepToken:
		s.loginToken(c, sess, st, d, "token-otp_token", st.device)
	case stepBackup:
		bd, err := s.deviceOf(c.Request.Context(), st.user.ID, "backup")
		if err != nil {
			s.internalError(c, err)
			return
		}
		if bd == nil {
			d.Error = l.T("backup_none_left")
			s.renderLogin(c, http.StatusOK, st, d)
			return
		}
		s.loginToken(c, sess, st, d, "backup-otp_token", bd)
	}
}

// loginGoto moves between steps: back to the password, or between the
// token and backup steps of a pending login.
func (s *Service) loginGoto(c *gin.Context, sess ginsessions.Session, st *loginState, d *loginData, to string) {
	switch {
	case to == stepAuth:
		clearLogin(sess)
		st.step, st.user = stepAuth, nil
	case st.user != nil && (to == stepBackup || to == stepToken) && st.step != stepAuth:
		st.step = to
		sess.Set(kLoginStep, to)
	case validLoginStep(to):
		// Not reachable from here: stay.
	default:
		s.fail(c, http.StatusBadRequest, "error_bad_step")
		return
	}
	if !s.saveSession(c, sess) {
		return
	}
	d.Step = st.step
	s.renderLogin(c, http.StatusOK, st, d)
}

func (s *Service) loginChoose(c *gin.Context, sess ginsessions.Session, st *loginState, d *loginData, key string) {
	dev, err := s.deviceByKey(c.Request.Context(), st.user.ID, key)
	if err != nil {
		s.internalError(c, err)
		return
	}
	if dev == nil || !s.methods.byCode[dev.MethodCode()].Primary() {
		s.fail(c, http.StatusBadRequest, "error_unknown_device")
		return
	}
	st.device = dev
	sess.Set(kLoginDevice, dev.Key())
	if !s.saveSession(c, sess) {
		return
	}
	s.challenge(c, st, d)
	s.renderLogin(c, http.StatusOK, st, d)
}

// challenge asks a Challenger device to send its code; a condition the
// user can act on (cooldown) becomes the form's error.
func (s *Service) challenge(c *gin.Context, st *loginState, d *loginData) {
	ch, ok := st.device.(Challenger)
	if !ok {
		return
	}
	if err := ch.Challenge(c, st.user); err != nil {
		var ue *UserError
		if errors.As(err, &ue) {
			d.Error = ue.Message(c)
			return
		}
		errLog(c, err)
		d.Error = locale.From(c).T("challenge_failed")
	}
}

func (s *Service) loginPassword(c *gin.Context, sess ginsessions.Session, st *loginState, d *loginData) {
	l := locale.From(c)
	username := strings.TrimSpace(c.PostForm("auth-username"))
	password := c.PostForm("auth-password")
	d.Username = username
	if username == "" || password == "" {
		d.Error = l.T("login_fields_required")
		s.renderLogin(c, http.StatusOK, st, d)
		return
	}
	u, err := s.checkPassword(c, username, password)
	if err != nil {
		var te *ThrottledError
		switch {
		case errors.As(err, &te):
			d.Error = throttleMessage(l, te)
		case errors.Is(err, ErrPasswordMismatch):
			d.Error = l.T("login_invalid")
		default:
			s.internalError(c, err)
			return
		}
		s.renderLogin(c, http.StatusOK, st, d)
		return
	}
	// A new session id: an id planted before the password step is worthless after it.
	clearLogin(sess)
	session.Rotate(sess)
	sess.Set(kLoginUID, int64(u.ID))
	sess.Set(kLoginEpoch, u.Epoch)
	sess.Set(kLoginDevs, u.DeviceEpoch)
	sess.Set(kLoginAt, s.clock.Now().Unix())
	if next, ok := httpx.SafeRedirect(d.Next); ok {
		sess.Set(kLoginNext, next)
	}
	dev, err := s.DefaultDevice(c.Request.Context(), u.ID)
	if err != nil {
		s.internalError(c, err)
		return
	}
	if dev == nil {
		// No device yet: forced enrolment, on the strength of this fresh password step.
		s.dropRemember(c, u)
		sess.Set(kSetupStep, setupWelcome)
		if s.saveSession(c, sess) {
			render.Redirect(c, setupURL)
		}
		return
	}
	if s.loginRemembered(c, sess, u, dev) {
		return
	}
	sess.Set(kLoginStep, stepToken)
	sess.Set(kLoginDevice, dev.Key())
	if !s.saveSession(c, sess) {
		return
	}
	st.step, st.user, st.device = stepToken, u, dev
	d.Step = stepToken
	s.challenge(c, st, d)
	s.renderLogin(c, http.StatusOK, st, d)
}

// passwordKeep is how long a quiet password-step row is remembered.
const passwordKeep = 24 * time.Hour

// passwordPolicy is the password step's back-off: PasswordUserFree free
// failures, then 1 s doubling up to PasswordMaxDelay.
func (s *Service) passwordPolicy() Policy {
	return Policy{Factor: time.Second, Free: s.cfg.PasswordUserFree, MaxDelay: s.cfg.PasswordMaxDelay, Keep: passwordKeep}
}

// addressClaim is the password step's per-client-address budget. It is
// claimed first: a request it refuses touches no per-username state, so
// guessing from one address cannot lock anybody's name.
func (s *Service) addressClaim(c *gin.Context) claim {
	p := s.passwordPolicy()
	p.Free, p.Forgive = s.cfg.PasswordIPFree, true
	return claim{s.throttleKey(scopeLoginIP, c.ClientIP()), p}
}

// nameClaim is the per-username budget, or, when this browser carries a
// valid device cookie for the name, that cookie's own budget instead: a
// name under attack from many addresses stays open to the browsers its
// user signed in with. Both are apart from the second factor's keys, so
// failing here never locks the second factor.
func (s *Service) nameClaim(c *gin.Context, username string) claim {
	if nonce := s.deviceNonce(c, username); nonce != "" {
		return claim{s.throttleKey(scopeLoginDevice, nonce), s.passwordPolicy()}
	}
	return claim{s.loginUserKey(username), s.passwordPolicy()}
}

// checkPassword runs the throttled password check. Unknown users cost one
// hash too, so timing does not reveal which usernames exist.
func (s *Service) checkPassword(c *gin.Context, username, password string) (*User, error) {
	ctx := c.Request.Context()
	addr := s.addressClaim(c)
	if err := s.thr.begin(ctx, addr); err != nil {
		// Refused by the address: recorded without looking at the name.
		s.recordPasswordThrottled(c, 0, "password step, per address", err)
		return nil, err
	}
	name := s.nameClaim(c, username)
	if err := s.thr.begin(ctx, name); err != nil {
		s.recordPasswordThrottled(c, s.userIDByName(c, username), "password step", err)
		return nil, err
	}
	claims := []claim{addr, name}
	if len(password) > 1024 {
		s.Record(c, Event{Kind: EventPasswordFailed, UserID: s.userIDByName(c, username), Detail: "password too long"})
		return nil, ErrPasswordMismatch
	}
	var u User
	err := s.db.WithContext(ctx).Where("username = ?", username).Limit(1).Find(&u).Error
	if err != nil {
		return nil, err
	}
	hash := u.Password
	if u.ID == 0 {
		hash = unusable
	}
	if err := s.hasher.Check(c.Request.Context(), password, hash); err != nil {
		if errors.Is(err, ErrPasswordMismatch) {
			s.Record(c, Event{Kind: EventPasswordFailed, UserID: u.ID})
		}
		return nil, err
	}
	if !u.IsActive {
		s.Record(c, Event{Kind: EventPasswordFailed, UserID: u.ID, Detail: "inactive user"})
		return nil, ErrPasswordMismatch
	}
	return &u, s.thr.succeed(ctx, claims...)
}

func (s *Service) loginToken(c *gin.Context, sess ginsessions.Session, st *loginState, d *loginData, field string, dev Device) {
	l := locale.From(c)
	token := c.PostForm(field)
	d.RememberChecked = c.PostForm("token-remember") != ""
	if strings.TrimSpace(token) == "" {
		d.Error = l.T("token_required")
		s.renderLogin(c, http.StatusOK, st, d)
		return
	}
	if err := s.Verify(c.Request.Context(), st.user, dev, token); err != nil {
		if msg, ok := verifyMessage(l, err); ok {
			s.recordVerifyFailure(c, st.user, dev, err)
			d.Error = msg
			s.renderLogin(c, http.StatusOK, st, d)
			return
		}
		s.internalError(c, err)
		return
	}
	next, _ := sess.Get(kLoginNext).(string)
	remember := d.RememberChecked && st.step == stepToken && s.cfg.RememberCookieAge > 0
	if s.completeLogin(c, sess, st.user, dev) {
		if remember {
			s.issueRemember(c, st.user, dev)
		}
		render.Redirect(c, httpx.RedirectOr(next, s.cfg.LoginRedirectURL))
	}
}

// Verify checks a token against one device with throttling: the device's
// back-off and the account-wide cap are claimed before the token is looked
// at, so a throttled attempt fails even with the right token.
func (s *Service) Verify(ctx context.Context, u *User, d Device, token string) error {
	claims := s.verifyClaims(u, d)
	if err := s.thr.begin(ctx, claims...); err != nil {
		return err
	}
	ok, err := d.VerifyToken(ctx, token)
	if err != nil {
		return err
	}
	if !ok {
		return ErrInvalidToken
	}
	return s.thr.succeed(ctx, claims...)
}

func verifyMessage(l *locale.Lang, err error) (string, bool) {
	var te *ThrottledError
	var ue *UserError
	switch {
	case errors.As(err, &te):
		return throttleMessage(l, te), true
	case errors.As(err, &ue):
		// A device refused the token with a message of its own (a WebAuthn
		// key already registered); it counted as a failed attempt.
		return l.T(ue.ID, ue.Args...), true
	case errors.Is(err, ErrInvalidToken):
		return l.T("token_invalid"), true
	}
	return "", false
}

func throttleMessage(l *locale.Lang, te *ThrottledError) string {
	if te.Locked {
		return l.T("account_locked", "Count", te.Failures)
	}
	secs := int((te.Wait + time.Second - 1) / time.Second)
	return l.T("throttled", "Count", te.Failures, "Seconds", secs)
}

// verifyClaims are the throttle keys of a second-factor attempt of u with
// d: the device's back-off and the account-wide cap.
func (s *Service) verifyClaims(u *User, d Device) []claim {
	// Kept for good (Keep 0): one row per real device and account, and
	// forgetting would reset NIST's consecutive-failure cap.
	return []claim{
		{s.throttleKey(scopeDevice, d.Key()), Policy{Factor: d.ThrottleFactor()}},
		{s.accountKey(u.ID), Policy{Cap: s.cfg.AccountFailureCap}},
	}
}

// completeLogin turns a pending login into a verified session under a new
// session id, records the login and calls the UserVerified hooks.
func (s *Service) completeLogin(c *gin.Context, sess ginsessions.Session, u *User, d Device) bool {
	return s.completeLoginAs(c, sess, u, d, EventLoginVerified)
}

// completeLoginAs is completeLogin recording the login as kind
// (EventLoginVerified, or EventLoginRemembered for a remembered browser).
func (s *Service) completeLoginAs(c *gin.Context, sess ginsessions.Session, u *User, d Device, kind string) bool {
	clearLogin(sess)
	session.Rotate(sess)
	now := s.clock.Now()
	sess.Set(kUID, int64(u.ID))
	sess.Set(kEpoch, u.Epoch)
	sess.Set(kDevice, d.Key())
	sess.Set(kAuthAt, now.Unix())
	if !s.saveSession(c, sess) {
		return false
	}
	if err := s.db.WithContext(c.Request.Context()).Model(&User{}).Where("id = ?", u.ID).Update("last_login", now).Error; err != nil {
		errLog(c, err)
	}
	s.issueDevice(c, u)
	s.Record(c, Event{Kind: kind, UserID: u.ID, Device: d.Key()})
	if d.MethodCode() == "backup" {
		s.Record(c, Event{Kind: EventBackupUsed, UserID: u.ID, Device: d.Key()})
	}
	s.fireVerified(c.Request, u, d)
	return true
}

func (s *Service) renderLogin(c *gin.Context, status int, st *loginState, d *loginData) {
	l := locale.From(c)
	d.Step = st.step
	d.Partial = "token-code"
	if st.step == stepToken && s.cfg.RememberCookieAge > 0 {
		d.Remember = rememberLabel(l, s.cfg.RememberCookieAge)
	}
	if st.user != nil && st.device != nil {
		d.Device = st.device.Label(l)
		if tf, ok := st.device.(TokenForm); ok {
			d.Partial = tf.TokenPartial()
		}
		ds, err := s.Devices(c.Request.Context(), st.user.ID)
		if err != nil {
			s.internalError(c, err)
			return
		}
		for _, o := range ds {
			if o.MethodCode() == "backup" {
				d.HasBackup = true
				continue
			}
			// A device that sends its code (email, SMS) keeps its button
			// while it is the one asked for: pressing it sends a new code,
			// within the device's cooldown.
			if _, resend := o.(Challenger); o.Key() != st.device.Key() || resend {
				d.Others = append(d.Others, choice{o.Key(), o.ActionText(l)})
			}
		}
	}
	s.render.HTML(c, status, "account/login.html", "wizard", s.View(c, l.T("login_title"), d))
}
