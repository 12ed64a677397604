package auth

import (
	"errors"
	"net/http"
	"time"

	ginsessions "github.com/gin-contrib/sessions"
	"github.com/gin-gonic/gin"

	"github.com/gatehouse/gatehouse/auth/session"
	"github.com/gatehouse/gatehouse/internal/httpx"
	"github.com/gatehouse/gatehouse/internal/locale"
	"github.com/gatehouse/gatehouse/internal/render"
)

const (
	backupURL  = "/account/two_factor/backup/tokens/"
	disableURL = "/account/two_factor/disable/"
)

// profileData is the account security page's data.
type profileData struct {
	Default     string   // label of the primary device, "" when none
	Devices     []string // labels of all confirmed devices
	BackupCount int64
	Events      []eventRow     // the user's latest security events
	Sections    map[string]any // blocks of methods, see AddProfileSection
}

// profileEvents is how many events the account security page shows.
const profileEvents = 20

// eventRow is one security event as the account page shows it.
type eventRow struct {
	ISO    string // RFC 3339, UTC, for <time datetime>
	When   string // "2026-01-05 12:00:00 UTC"
	Text   string // translated kind
	Method string // the device's method name, "" when none
	IP     string
}

func (s *Service) eventRows(l *locale.Lang, evs []Event) []eventRow {
	rows := make([]eventRow, len(evs))
	for i, e := range evs {
		at := e.At.UTC()
		rows[i] = eventRow{ISO: at.Format(time.RFC3339), When: at.Format("2006-01-02 15:04:05 UTC"), Text: EventText(l, e.Kind), IP: e.IP}
		if code, _, ok := splitKey(e.Device); ok {
			if m := s.methods.byCode[code]; m != nil {
				rows[i].Method = m.Name(l)
			}
		}
	}
	return rows
}

func (s *Service) profile(c *gin.Context) {
	u := UserFrom(c)
	l := locale.From(c)
	ds, err := s.Devices(c.Request.Context(), u.ID)
	if err != nil {
		s.internalError(c, err)
		return
	}
	d := &profileData{}
	for _, dev := range ds {
		if dev.MethodCode() == "backup" {
			continue
		}
		if d.Default == "" {
			d.Default = dev.Label(l)
		}
		d.Devices = append(d.Devices, dev.Label(l))
	}
	if d.BackupCount, err = s.BackupCount(c.Request.Context(), u.ID); err != nil {
		s.internalError(c, err)
		return
	}
	evs, err := s.Events(c.Request.Context(), u.ID, profileEvents)
	if err != nil {
		s.internalError(c, err)
		return
	}
	d.Events = s.eventRows(l, evs)
	if d.Sections, err = s.profileSections(c, u); err != nil {
		s.internalError(c, err)
		return
	}
	s.render.HTML(c, http.StatusOK, "account/profile.html", "", s.View(c, l.T("profile_title"), d))
}

// backupData is the backup codes page's data.
type backupData struct {
	Count int64
	Codes []string // only in the response to the generating POST
}

func (s *Service) backupGet(c *gin.Context) {
	n, err := s.BackupCount(c.Request.Context(), UserFrom(c).ID)
	if err != nil {
		s.internalError(c, err)
		return
	}
	s.renderBackup(c, &backupData{Count: n})
}

func (s *Service) backupPost(c *gin.Context) {
	codes, err := s.GenerateBackupCodes(requestContext(c), UserFrom(c).ID)
	if err != nil {
		s.internalError(c, err)
		return
	}
	s.renderBackup(c, &backupData{Count: int64(len(codes)), Codes: codes})
}

func (s *Service) renderBackup(c *gin.Context, d *backupData) {
	v := s.View(c, locale.From(c).T("backup_title"), d)
	v.NoStore = true // the codes are shown once and must not be cached or kept in history
	s.render.HTML(c, http.StatusOK, "account/backup_tokens.html", "backup", v)
}

// disableData is the disable page's data.
type disableData struct{ Error string }

func (s *Service) disableGet(c *gin.Context) {
	s.render.HTML(c, http.StatusOK, "account/disable.html", "disable", s.View(c, locale.From(c).T("disable_title"), &disableData{}))
}

// disablePost removes every device after the checkbox and the password
// again; the session ends, so the next login enrols from scratch.
func (s *Service) disablePost(c *gin.Context) {
	u := UserFrom(c)
	l := locale.From(c)
	d := &disableData{}
	if c.PostForm("understand") == "" {
		d.Error = l.T("disable_understand_required")
	} else if _, err := s.checkPassword(c, u.Username, c.PostForm("password")); err != nil {
		var te *ThrottledError
		switch {
		case errors.As(err, &te):
			d.Error = throttleMessage(l, te)
		case errors.Is(err, ErrPasswordMismatch):
			d.Error = l.T("disable_wrong_password")
		default:
			s.internalError(c, err)
			return
		}
	}
	if d.Error != "" {
		s.render.HTML(c, http.StatusOK, "account/disable.html", "disable", s.View(c, l.T("disable_title"), d))
		return
	}
	if err := s.DisableTwoFactor(requestContext(c), u); err != nil {
		s.internalError(c, err)
		return
	}
	sess := ginsessions.Default(c)
	session.Destroy(sess)
	if s.saveSession(c, sess) {
		render.Redirect(c, s.cfg.LoginURL)
	}
}

func (s *Service) logoutGet(c *gin.Context) {
	s.render.HTML(c, http.StatusOK, "account/logout.html", "", s.View(c, locale.From(c).T("logout_title"), nil))
}

// logoutPost destroys the server-side session record, so the old cookie is
// worthless even if it was copied.
func (s *Service) logoutPost(c *gin.Context) {
	sess := ginsessions.Default(c)
	session.Destroy(sess)
	if s.saveSession(c, sess) {
		render.Redirect(c, httpx.RedirectOr(c.PostForm("next"), s.cfg.LogoutRedirectURL))
	}
}
