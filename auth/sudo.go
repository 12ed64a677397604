package auth

import (
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

// Sudo mode, as GitHub has it: sensitive account actions (backup codes,
// adding or removing devices and phones, disabling two-factor, changing a
// password) need a second-factor verification within Config.ReauthWindow.
// Otherwise the browser is sent to the re-authentication page, which asks
// for a token from any of the user's devices and then returns.

// ReauthURL is the re-authentication page.
const ReauthURL = "/account/two_factor/reauth/"

const (
	kReauthDevice = "reauth_device"
	kReauthBackup = "reauth_backup"
)

// SudoFresh reports whether the verified session's last second-factor
// verification is within the re-authentication window.
func (s *Service) SudoFresh(c *gin.Context) bool {
	if UserFrom(c) == nil {
		return false
	}
	at, _ := ginsessions.Default(c).Get(kAuthAt).(int64)
	age := s.clock.Now().Sub(time.Unix(at, 0))
	return at > 0 && age >= -time.Minute && age <= s.cfg.ReauthWindow
}

// RequireSudo reports whether the request may go on; when not, it has
// answered with a redirect to the re-authentication page, which returns to
// back afterwards (the request's own URL when back is "" and the request
// is a GET: a POST cannot be replayed, so it returns to the form's page).
func (s *Service) RequireSudo(c *gin.Context, back string) bool {
	if s.SudoFresh(c) {
		return true
	}
	if back == "" || c.Request.Method == http.MethodGet {
		back = c.Request.URL.RequestURI()
	}
	c.Abort()
	render.Redirect(c, withNext(ReauthURL, "next", back))
	return false
}

// SudoRequired is RequireSudo as middleware, for routes behind OTPRequired.
func (s *Service) SudoRequired(back string) gin.HandlerFunc {
	return func(c *gin.Context) {
		if s.RequireSudo(c, back) {
			c.Next()
		}
	}
}

// reauthData is the re-authentication page's data.
type reauthData struct {
	loginData
	Backup bool // the backup-code form instead of the device's
}

// reauthDevice is the device the page asks for: the one chosen on the
// page, else the one that verified the session, else the default.
func (s *Service) reauthDevice(c *gin.Context, u *User) (Device, error) {
	sess := ginsessions.Default(c)
	for _, key := range []any{sess.Get(kReauthDevice), sess.Get(kDevice)} {
		if k, ok := key.(string); ok {
			d, err := s.deviceByKey(c.Request.Context(), u.ID, k)
			if err != nil || (d != nil && s.methods.byCode[d.MethodCode()].Primary()) {
				return d, err
			}
		}
	}
	return s.DefaultDevice(c.Request.Context(), u.ID)
}

func (s *Service) reauthGet(c *gin.Context) {
	s.renderReauth(c, &reauthData{loginData: loginData{Next: c.Query("next")}})
}

func (s *Service) reauthPost(c *gin.Context) {
	u := UserFrom(c)
	sess := ginsessions.Default(c)
	l := locale.From(c)
	d := &reauthData{loginData: loginData{Next: c.PostForm("next")}}
	switch to := c.PostForm("wizard_goto_step"); to {
	case stepBackup, stepToken:
		sess.Set(kReauthBackup, to == stepBackup)
		if s.saveSession(c, sess) {
			s.renderReauth(c, d)
		}
		return
	case "":
	default:
		s.fail(c, http.StatusBadRequest, "error_bad_step")
		return
	}
	if key := c.PostForm("challenge_device"); key != "" {
		dev, err := s.deviceByKey(c.Request.Context(), u.ID, key)
		if err != nil {
			s.internalError(c, err)
			return
		}
		if dev == nil || !s.methods.byCode[dev.MethodCode()].Primary() {
			s.fail(c, http.StatusBadRequest, "error_unknown_device")
			return
		}
		sess.Set(kReauthDevice, dev.Key())
		sess.Set(kReauthBackup, false)
		if !s.saveSession(c, sess) {
			return
		}
		s.challenge(c, &loginState{user: u, device: dev}, &d.loginData)
		s.renderReauth(c, d)
		return
	}
	dev, field, err := s.reauthTarget(c, u)
	if err != nil {
		s.internalError(c, err)
		return
	}
	if dev == nil {
		d.Error = l.T("backup_none_left")
		s.renderReauth(c, d)
		return
	}
	token := c.PostForm(field)
	if strings.TrimSpace(token) == "" {
		d.Error = l.T("token_required")
		s.renderReauth(c, d)
		return
	}
	if err := s.Verify(c.Request.Context(), u, dev, token); err != nil {
		msg, ok := verifyMessage(l, err)
		if !ok {
			s.internalError(c, err)
			return
		}
		s.recordVerifyFailure(c, u, dev, err)
		d.Error = msg
		s.renderReauth(c, d)
		return
	}
	// A fresh verification raises the session's privileges: a new id.
	session.Rotate(sess)
	sess.Set(kAuthAt, s.clock.Now().Unix())
	sess.Delete(kReauthDevice)
	sess.Delete(kReauthBackup)
	if !s.saveSession(c, sess) {
		return
	}
	s.Record(c, Event{Kind: EventReauthenticated, UserID: u.ID, Device: dev.Key()})
	render.Redirect(c, httpx.RedirectOr(d.Next, s.cfg.LoginRedirectURL))
}

// reauthTarget is the device a posted token is checked against, and its
// form field: the backup codes, or the device the page shows.
func (s *Service) reauthTarget(c *gin.Context, u *User) (Device, string, error) {
	if backup, _ := ginsessions.Default(c).Get(kReauthBackup).(bool); backup {
		d, err := s.deviceOf(c.Request.Context(), u.ID, "backup")
		return d, "backup-otp_token", err
	}
	d, err := s.reauthDevice(c, u)
	return d, "token-otp_token", err
}

func (s *Service) renderReauth(c *gin.Context, d *reauthData) {
	u := UserFrom(c)
	l := locale.From(c)
	if _, ok := httpx.SafeRedirect(d.Next); !ok {
		d.Next = ""
	}
	d.Backup, _ = ginsessions.Default(c).Get(kReauthBackup).(bool)
	dev, err := s.reauthDevice(c, u)
	if err != nil {
		s.internalError(c, err)
		return
	}
	d.Step, d.Partial = stepToken, "token-code"
	if d.Backup {
		d.Step = stepBackup
	}
	if dev != nil {
		d.Device = dev.Label(l)
		if tf, ok := dev.(TokenForm); ok {
			d.Partial = tf.TokenPartial()
		}
	}
	ds, err := s.Devices(c.Request.Context(), u.ID)
	if err != nil {
		s.internalError(c, err)
		return
	}
	for _, o := range ds {
		if o.MethodCode() == "backup" {
			d.HasBackup = true
			continue
		}
		if _, resend := o.(Challenger); dev == nil || o.Key() != dev.Key() || resend {
			d.Others = append(d.Others, choice{o.Key(), o.ActionText(l)})
		}
	}
	v := s.View(c, l.T("reauth_title"), d)
	v.NoStore = true
	s.render.HTML(c, http.StatusOK, "account/reauth.html", "reauth", v)
}
