package auth

import (
	"errors"
	"net/http"
	"strings"

	"github.com/gin-gonic/gin"
	"gorm.io/gorm"

	"github.com/gatehouse/gatehouse/internal/locale"
	"github.com/gatehouse/gatehouse/internal/render"
)

// bootstrapData is the first-superuser page's data.
type bootstrapData struct {
	Token, Username, Email, Error string
}

// bootstrapValid reports whether token is a live one-time link and no
// superuser exists yet.
func (s *Service) bootstrapValid(c *gin.Context, token string) bool {
	if token == "" || len(token) > 64 {
		return false
	}
	if has, err := s.HasSuperuser(c); err != nil || has {
		return false
	}
	var row bootstrapToken
	err := s.db.WithContext(c.Request.Context()).Where("hash = ? AND expires_at > ?", sha256Hex(token), s.clock.Now()).Take(&row).Error
	return err == nil
}

func (s *Service) bootstrapGet(c *gin.Context) {
	token := c.Query("token")
	if !s.bootstrapValid(c, token) {
		s.fail(c, http.StatusNotFound, "bootstrap_invalid")
		return
	}
	c.Header("Referrer-Policy", "no-referrer")
	s.renderBootstrap(c, &bootstrapData{Token: token})
}

func (s *Service) renderBootstrap(c *gin.Context, d *bootstrapData) {
	v := s.View(c, locale.From(c).T("bootstrap_title"), d)
	v.NoStore = true
	s.render.HTML(c, http.StatusOK, "account/first_superuser.html", "", v)
}

func (s *Service) bootstrapPost(c *gin.Context) {
	l := locale.From(c)
	d := &bootstrapData{Token: c.PostForm("token"), Username: strings.TrimSpace(c.PostForm("username")), Email: strings.TrimSpace(c.PostForm("email"))}
	if !s.bootstrapValid(c, d.Token) {
		s.fail(c, http.StatusNotFound, "bootstrap_invalid")
		return
	}
	p1, p2 := c.PostForm("password1"), c.PostForm("password2")
	switch {
	case d.Username == "":
		d.Error = l.T("login_fields_required")
	case p1 != p2:
		d.Error = l.T("password_mismatch")
	case PasswordProblem(p1, d.Username) != "":
		d.Error = l.T(PasswordProblem(p1, d.Username))
	}
	if d.Error != "" {
		s.renderBootstrap(c, d)
		return
	}
	// Consume the link first: of two racing posts, one creates the user.
	res := s.db.WithContext(c.Request.Context()).Where("hash = ?", sha256Hex(d.Token)).Delete(&bootstrapToken{})
	if res.Error != nil || res.RowsAffected != 1 {
		s.fail(c, http.StatusNotFound, "bootstrap_invalid")
		return
	}
	if _, err := s.CreateUser(c.Request.Context(), NewUser{Username: d.Username, Email: d.Email, Password: p1, Superuser: true}); err != nil {
		if errors.Is(err, ErrUserExists) || errors.Is(err, gorm.ErrDuplicatedKey) {
			d.Error = l.T("username_taken")
			s.renderBootstrap(c, d)
			return
		}
		s.internalError(c, err)
		return
	}
	render.Redirect(c, s.cfg.LoginURL)
}
