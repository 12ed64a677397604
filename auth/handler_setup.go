package auth

import (
	"errors"
	"net/http"
	"strings"

	ginsessions "github.com/gin-contrib/sessions"
	"github.com/gin-gonic/gin"
	"gorm.io/gorm"

	"github.com/gatehouse/gatehouse/internal/httpx"
	"github.com/gatehouse/gatehouse/internal/locale"
	"github.com/gatehouse/gatehouse/internal/render"
)

const (
	setupURL         = "/account/two_factor/setup/"
	setupCompleteURL = "/account/two_factor/setup/complete/"
	setupWelcome     = "welcome"
	setupMethod      = "method"
	// setupValidation asks for the code a Stepper sent (SMS, call, email).
	setupValidation = "validation"
)

// methodChoice is one radio button of the method step.
type methodChoice struct{ Code, Name string }

// setupData is the setup page's template data.
type setupData struct {
	Step      string
	Methods   []methodChoice
	Method    string
	Error     string
	Enroll    any    // the method step's own data (e.g. *TOTPSetup)
	Field     string // the confirming token's form field
	Partial   string // "setup-<step>"
	Forced    bool   // enrolment during login
	CanGoBack bool
}

// setupUser returns who is enrolling: a verified user, or a user whose
// fresh password step found no device (forced enrolment).
func (s *Service) setupUser(c *gin.Context, sess ginsessions.Session) (u *User, forced bool) {
	if u := UserFrom(c); u != nil {
		return u, false
	}
	if p, _ := s.pendingUser(c, sess); p != nil && sess.Get(kSetupStep) != nil {
		return p, true
	}
	return nil, false
}

// refuseSetup sends a session that may not enrol to the login page. A
// forced enrolment whose user's devices changed since its password step
// (someone enrolled first) is ended and logged: it must never enrol.
func (s *Service) refuseSetup(c *gin.Context, sess ginsessions.Session) {
	if uid, _ := sess.Get(kLoginUID).(int64); uid != 0 && sess.Get(kSetupStep) != nil {
		if u, err := s.UserByID(c.Request.Context(), uint(uid)); err == nil && u.DeviceEpoch != sess.Get(kLoginDevs) {
			s.refuseStale(c, sess, u.ID)
			return
		}
	}
	render.Redirect(c, withNext(s.cfg.LoginURL, "next", setupURL))
}

// refuseStale ends a pending login or enrolment that a device change made
// stale, records the refusal and sends the browser to the login page.
func (s *Service) refuseStale(c *gin.Context, sess ginsessions.Session, userID uint) {
	s.Record(c, Event{Kind: EventLoginRefused, UserID: userID, Detail: "devices changed since the password step"})
	clearLogin(sess)
	if s.saveSession(c, sess) {
		render.Redirect(c, withNext(s.cfg.LoginURL, "next", setupURL))
	}
}

func (s *Service) enroller(code string) Enroller {
	for _, e := range s.methods.enrollers() {
		if e.Code() == code {
			return e
		}
	}
	return nil
}

func (s *Service) setupGet(c *gin.Context) {
	sess := ginsessions.Default(c)
	u, forced := s.setupUser(c, sess)
	if u == nil {
		s.refuseSetup(c, sess)
		return
	}
	if !forced {
		if d, err := s.DefaultDevice(c.Request.Context(), u.ID); err != nil || d != nil {
			if err != nil {
				s.internalError(c, err)
				return
			}
			render.Redirect(c, s.cfg.LoginRedirectURL)
			return
		}
	}
	step, _ := sess.Get(kSetupStep).(string)
	if step == "" {
		step = setupWelcome
	}
	s.renderSetup(c, sess, u, forced, &setupData{Step: step})
}

func (s *Service) setupPost(c *gin.Context) {
	sess := ginsessions.Default(c)
	posted := c.PostForm("setup_view-current_step")
	if !s.validSetupStep(posted) {
		s.fail(c, http.StatusBadRequest, "error_bad_step")
		return
	}
	u, forced := s.setupUser(c, sess)
	if u == nil {
		s.refuseSetup(c, sess)
		return
	}
	step, _ := sess.Get(kSetupStep).(string)
	if step == "" {
		step = setupWelcome
	}
	d := &setupData{Step: step}
	if to := c.PostForm("wizard_goto_step"); to != "" {
		if to != setupWelcome && to != setupMethod {
			s.fail(c, http.StatusBadRequest, "error_bad_step")
			return
		}
		d.Step = to
		sess.Set(kSetupStep, to)
		if s.saveSession(c, sess) {
			s.renderSetup(c, sess, u, forced, d)
		}
		return
	}
	if posted != step {
		s.renderSetup(c, sess, u, forced, d)
		return
	}
	switch step {
	case setupWelcome:
		es := s.methods.enrollers()
		if len(es) == 1 {
			s.beginEnrol(c, sess, u, forced, es[0])
			return
		}
		d.Step = setupMethod
		sess.Set(kSetupStep, setupMethod)
		if s.saveSession(c, sess) {
			s.renderSetup(c, sess, u, forced, d)
		}
	case setupMethod:
		e := s.enroller(c.PostForm("method-method"))
		if e == nil {
			d.Error = locale.From(c).T("setup_choose_method")
			s.renderSetup(c, sess, u, forced, d)
			return
		}
		s.beginEnrol(c, sess, u, forced, e)
	default:
		s.confirmEnrol(c, sess, u, forced, d)
	}
}

func (s *Service) validSetupStep(step string) bool {
	if step == setupWelcome || step == setupMethod || step == setupValidation {
		return true
	}
	for _, e := range s.methods.enrollers() {
		if e.SetupStep() == step {
			return true
		}
	}
	return false
}

func (s *Service) beginEnrol(c *gin.Context, sess ginsessions.Session, u *User, forced bool, e Enroller) {
	id, err := e.BeginSetup(c.Request.Context(), u)
	if err != nil {
		s.internalError(c, err)
		return
	}
	sess.Set(kSetupMethod, e.Code())
	sess.Set(kSetupDevice, int64(id))
	sess.Set(kSetupStep, e.SetupStep())
	if s.saveSession(c, sess) {
		s.renderSetup(c, sess, u, forced, &setupData{Step: e.SetupStep()})
	}
}

func (s *Service) pendingEnrol(sess ginsessions.Session) (Enroller, uint) {
	code, _ := sess.Get(kSetupMethod).(string)
	id, _ := sess.Get(kSetupDevice).(int64)
	return s.enroller(code), uint(id)
}

func (s *Service) confirmEnrol(c *gin.Context, sess ginsessions.Session, u *User, forced bool, d *setupData) {
	l := locale.From(c)
	e, id := s.pendingEnrol(sess)
	stepper, isStepper := e.(Stepper)
	if e == nil || (e.SetupStep() != d.Step && !(isStepper && d.Step == setupValidation)) {
		s.fail(c, http.StatusBadRequest, "error_bad_step")
		return
	}
	if isStepper && d.Step == e.SetupStep() {
		// The method's own form (a phone number, an address): it sends
		// the code, then the wizard asks for it.
		if err := stepper.SetupSubmit(c, u, id); err != nil {
			var ue *UserError
			if !errors.As(err, &ue) {
				s.internalError(c, err)
				return
			}
			d.Error = ue.Message(c)
		} else {
			d.Step = setupValidation
			sess.Set(kSetupStep, setupValidation)
			if !s.saveSession(c, sess) {
				return
			}
		}
		s.renderSetup(c, sess, u, forced, d)
		return
	}
	dev, err := e.PendingDevice(c.Request.Context(), u, id)
	if errors.Is(err, gorm.ErrRecordNotFound) {
		// Replaced in another tab, or already confirmed: start the method again.
		s.beginEnrol(c, sess, u, forced, e)
		return
	}
	if err != nil {
		s.internalError(c, err)
		return
	}
	token := c.PostForm(e.TokenField())
	if strings.TrimSpace(token) == "" {
		d.Error = l.T("token_required")
		s.renderSetup(c, sess, u, forced, d)
		return
	}
	// The confirming token goes through Verify, so it is consumed: it
	// cannot be replayed to log in.
	if err := s.Verify(c.Request.Context(), u, dev, token); err != nil {
		if msg, ok := verifyMessage(l, err); ok {
			s.recordVerifyFailure(c, u, dev, err)
			d.Error = msg
			s.renderSetup(c, sess, u, forced, d)
			return
		}
		s.internalError(c, err)
		return
	}
	var devs int64 // a forced enrolment commits only on the device epoch of its password step
	if forced {
		devs, _ = sess.Get(kLoginDevs).(int64)
	}
	if err := s.confirmDevice(c.Request.Context(), e, u, id, devs); err != nil {
		if errors.Is(err, errStaleEnrolment) {
			s.refuseStale(c, sess, u.ID)
			return
		}
		s.internalError(c, err)
		return
	}
	s.Record(c, Event{Kind: EventDeviceAdded, UserID: u.ID, Device: dev.Key()})
	next, _ := sess.Get(kLoginNext).(string)
	for _, k := range []string{kSetupStep, kSetupMethod, kSetupDevice} {
		sess.Delete(k)
	}
	if forced {
		// The enrolment token is the second factor: verified, no second login.
		if !s.completeLogin(c, sess, u, dev) {
			return
		}
	}
	if next != "" {
		sess.Set(kSetupNext, next)
	}
	if s.saveSession(c, sess) {
		render.Redirect(c, setupCompleteURL)
	}
}

func (s *Service) renderSetup(c *gin.Context, sess ginsessions.Session, u *User, forced bool, d *setupData) {
	l := locale.From(c)
	d.Forced = forced
	es := s.methods.enrollers()
	for _, e := range es {
		d.Methods = append(d.Methods, methodChoice{e.Code(), e.Name(l)})
	}
	d.CanGoBack = len(es) > 1
	v := s.View(c, l.T("setup_title"), d)
	if d.Step != setupWelcome && d.Step != setupMethod {
		e, id := s.pendingEnrol(sess)
		_, isStepper := e.(Stepper)
		if e == nil || (e.SetupStep() != d.Step && !(isStepper && d.Step == setupValidation)) {
			d.Step = setupWelcome
		} else {
			data, err := e.SetupView(c.Request.Context(), u, id)
			if errors.Is(err, gorm.ErrRecordNotFound) {
				s.beginEnrol(c, sess, u, forced, e)
				return
			}
			if err != nil {
				s.internalError(c, err)
				return
			}
			d.Enroll, d.Field, d.Partial, d.Method = data, e.TokenField(), "setup-"+d.Step, e.Code()
			v.NoStore = true // the step shows a secret
		}
	}
	s.render.HTML(c, http.StatusOK, "account/setup.html", "wizard", v)
}

func (s *Service) setupComplete(c *gin.Context) {
	sess := ginsessions.Default(c)
	next, _ := sess.Get(kSetupNext).(string)
	l := locale.From(c)
	s.render.HTML(c, http.StatusOK, "account/setup_complete.html", "", s.View(c, l.T("setup_complete_title"),
		struct{ Next string }{httpx.RedirectOr(next, s.cfg.LoginRedirectURL)}))
}
