package auth

import (
	"errors"
	"net/http"

	ginsessions "github.com/gin-contrib/sessions"
	"github.com/gin-gonic/gin"

	"github.com/gatehouse/gatehouse/auth/session"
	"github.com/gatehouse/gatehouse/internal/locale"
	"github.com/gatehouse/gatehouse/internal/render"
)

// PasswordChangeURL is the page where a verified user changes their own
// password (Django's password_change), in sudo mode.
const PasswordChangeURL = "/account/password_change/"

// passwordData is the password change page's data.
type passwordData struct{ Error string }

func (s *Service) passwordGet(c *gin.Context) {
	s.renderPassword(c, &passwordData{})
}

// passwordPost checks the old password and the new one twice (Django's
// old_password, new_password1, new_password2). Changing it moves the
// credential epoch: the user's other sessions and remembered browsers end;
// this session goes on under a new id.
func (s *Service) passwordPost(c *gin.Context) {
	u := UserFrom(c)
	l := locale.From(c)
	p1, p2 := c.PostForm("new_password1"), c.PostForm("new_password2")
	d := &passwordData{}
	if _, err := s.checkPassword(c, u.Username, c.PostForm("old_password")); err != nil {
		var te *ThrottledError
		switch {
		case errors.As(err, &te):
			d.Error = throttleMessage(l, te)
		case errors.Is(err, ErrPasswordMismatch):
			d.Error = l.T("password_old_wrong")
		default:
			s.internalError(c, err)
			return
		}
	} else if p1 != p2 {
		d.Error = l.T("password_mismatch")
	} else if p := PasswordProblem(p1, u.Username); p != "" {
		d.Error = l.T(p)
	}
	if d.Error != "" {
		s.renderPassword(c, d)
		return
	}
	if err := s.SetPassword(requestContext(c), u, p1); err != nil {
		s.internalError(c, err)
		return
	}
	sess := ginsessions.Default(c)
	session.Rotate(sess)
	sess.Set(kEpoch, u.Epoch)
	if !s.saveSession(c, sess) {
		return
	}
	s.Record(c, Event{Kind: EventPasswordChanged, UserID: u.ID})
	Flash(c, l.T("password_changed"))
	render.Redirect(c, s.cfg.LoginRedirectURL)
}

func (s *Service) renderPassword(c *gin.Context, d *passwordData) {
	v := s.View(c, locale.From(c).T("password_change_title"), d)
	v.NoStore = true
	s.render.HTML(c, http.StatusOK, "account/password_change.html", "password", v)
}
