package phone

import (
	"errors"
	"net/http"
	"strconv"
	"strings"

	ginsessions "github.com/gin-contrib/sessions"
	"github.com/gin-gonic/gin"
	"gorm.io/gorm"

	"github.com/gatehouse/gatehouse/auth"
	"github.com/gatehouse/gatehouse/internal/httpx"
	"github.com/gatehouse/gatehouse/internal/locale"
	"github.com/gatehouse/gatehouse/internal/render"
)

// Backup-phone pages, as in the seed.
const (
	RegisterURL   = "/account/two_factor/phone/register/"
	UnregisterURL = "/account/two_factor/phone/unregister/" // + id + "/"
	profileURL    = "/account/two_factor/"
)

// Steps of the backup-phone wizard and its session keys. The session holds
// the step and the pending phone's id, nothing secret.
const (
	stepSetup      = "setup"
	stepValidation = "validation"
	stepField      = "phone_setup_view-current_step"
	kStep          = "phone_setup_step"
	kDevice        = "phone_setup_device"
)

func (p *Phones) routes(r gin.IRouter) {
	g := r.Group("/account/two_factor/phone", p.s.OTPRequired(auth.GuardOptions{}))
	g.GET("/register/", p.s.SudoRequired(""), p.registerGet)
	g.POST("/register/", p.s.SudoRequired("/account/two_factor/phone/register/"), p.registerPost)
	g.POST("/unregister/:id/", p.s.SudoRequired(profileURL), p.unregister)
	if cr, ok := p.cfg.Call.(CallRouter); ok {
		cr.CallRoutes(r, p)
	}
}

// registerData is the backup-phone wizard's data.
type registerData struct {
	Step    string
	Methods []choice
	Method  string     // the chosen method
	Number  string     // the number as typed, shown again after an error
	Enroll  *SetupData // the number field (partial "phone-number-field")
	Masked  string     // the validation step's masked number
	Error   string
}

type choice struct{ Code, Name string }

func (p *Phones) registerGet(c *gin.Context) {
	sess := ginsessions.Default(c)
	d := &registerData{Step: stepSetup}
	if step, _ := sess.Get(kStep).(string); step == stepValidation {
		d.Step = stepValidation
	}
	p.renderRegister(c, sess, d)
}

func (p *Phones) registerPost(c *gin.Context) {
	posted := c.PostForm(stepField)
	if posted != stepSetup && posted != stepValidation {
		p.s.Fail(c, http.StatusBadRequest, "error_bad_step")
		return
	}
	sess := ginsessions.Default(c)
	step, _ := sess.Get(kStep).(string)
	if step != stepValidation {
		step = stepSetup
	}
	d := &registerData{Step: step}
	switch to := c.PostForm("wizard_goto_step"); {
	case to == stepSetup:
		sess.Delete(kStep)
		sess.Delete(kDevice)
		if p.save(c, sess) {
			d.Step = stepSetup
			p.renderRegister(c, sess, d)
		}
		return
	case to != "":
		p.s.Fail(c, http.StatusBadRequest, "error_bad_step")
		return
	}
	if posted != step {
		// The server's step wins: a posted step never skips one.
		p.renderRegister(c, sess, d)
		return
	}
	if step == stepSetup {
		p.registerNumber(c, sess, d)
	} else {
		p.registerValidate(c, sess, d)
	}
}

// registerNumber checks the number and method, creates the pending backup
// phone and sends its code.
func (p *Phones) registerNumber(c *gin.Context, sess ginsessions.Session, d *registerData) {
	u := auth.UserFrom(c)
	ctx := c.Request.Context()
	d.Method, d.Number = trimmed(c, "setup-method"), trimmed(c, "setup-number")
	if len(p.methods) == 1 && d.Method == "" {
		d.Method = p.methods[0].code
	}
	if !p.enabled(d.Method) {
		d.Error = locale.From(c).T("phone_method_required")
		p.renderRegister(c, sess, d)
		return
	}
	number, err := p.parse(d.Number)
	if err == nil {
		err = p.registered(c, u, d.Method, number)
	}
	var dev *Device
	if err == nil {
		dev, err = p.newDevice(ctx, u, NameBackup, d.Method, number)
	}
	if err == nil {
		err = p.send(c, u, dev)
	}
	if err != nil {
		var ue *auth.UserError
		if !errors.As(err, &ue) {
			p.internal(c, err)
			return
		}
		d.Error = ue.Message(c)
		p.renderRegister(c, sess, d)
		return
	}
	sess.Set(kStep, stepValidation)
	sess.Set(kDevice, int64(dev.ID))
	if p.save(c, sess) {
		d.Step = stepValidation
		p.renderRegister(c, sess, d)
	}
}

// registered refuses a number the user already has for the method.
func (p *Phones) registered(c *gin.Context, u *auth.User, method, number string) error {
	var n int64
	err := p.s.DB().WithContext(c.Request.Context()).Model(&Device{}).
		Where("user_id = ? AND method = ? AND number = ? AND confirmed = ?", u.ID, method, number, true).Count(&n).Error
	if err != nil {
		return err
	}
	if n > 0 {
		return &auth.UserError{ID: "phone_number_registered"}
	}
	return nil
}

// registerValidate checks the code through the auth service (throttled,
// single use) and confirms the backup phone.
func (p *Phones) registerValidate(c *gin.Context, sess ginsessions.Session, d *registerData) {
	u := auth.UserFrom(c)
	ctx := c.Request.Context()
	l := locale.From(c)
	id, _ := sess.Get(kDevice).(int64)
	dev, err := p.pending(ctx, u, uint(id), NameBackup, "")
	if errors.Is(err, gorm.ErrRecordNotFound) || (err == nil && !p.enabled(dev.Method)) {
		// Replaced in another tab, or already confirmed: start again.
		sess.Delete(kStep)
		sess.Delete(kDevice)
		if p.save(c, sess) {
			d.Step, d.Error = stepSetup, l.T("phone_setup_restart")
			p.renderRegister(c, sess, d)
		}
		return
	}
	if err != nil {
		p.internal(c, err)
		return
	}
	token := c.PostForm("validation-token")
	if strings.TrimSpace(token) == "" {
		d.Error = l.T("token_required")
		p.renderRegister(c, sess, d)
		return
	}
	if err := p.s.Verify(ctx, u, dev, token); err != nil {
		msg, ok := auth.VerifyMessage(l, err)
		if !ok {
			p.internal(c, err)
			return
		}
		p.s.RecordVerifyFailure(c, u, dev, err)
		d.Error = msg
		p.renderRegister(c, sess, d)
		return
	}
	err = p.s.DB().WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		if err := p.confirm(ctx, tx, u, dev.ID, NameBackup); err != nil {
			return err
		}
		return p.s.DevicesChanged(ctx, tx, u.ID)
	})
	if err != nil {
		p.internal(c, err)
		return
	}
	p.s.Record(c, auth.Event{Kind: auth.EventDeviceAdded, UserID: u.ID, Device: dev.Key()})
	sess.Delete(kStep)
	sess.Delete(kDevice)
	if !p.save(c, sess) {
		return
	}
	auth.Flash(c, l.T("phone_backup_added", "Number", isolate(l, FormatNumber(dev.Number))))
	render.Redirect(c, profileURL)
}

func (p *Phones) renderRegister(c *gin.Context, sess ginsessions.Session, d *registerData) {
	l := locale.From(c)
	for _, m := range p.methods {
		d.Methods = append(d.Methods, choice{m.code, m.Name(l)})
	}
	if d.Method == "" && len(d.Methods) > 0 {
		d.Method = d.Methods[0].Code
	}
	d.Enroll = &SetupData{Field: "setup-number", Number: d.Number, Example: p.example()}
	if d.Step == stepValidation {
		id, _ := sess.Get(kDevice).(int64)
		dev, err := p.pending(c.Request.Context(), auth.UserFrom(c), uint(id), NameBackup, "")
		switch {
		case errors.Is(err, gorm.ErrRecordNotFound):
			d.Step = stepSetup
		case err != nil:
			p.internal(c, err)
			return
		default:
			d.Masked = isolate(l, MaskNumber(dev.Number))
		}
	}
	v := p.s.View(c, l.T("phone_backup_title"), d)
	v.NoStore = true
	p.s.HTML(c, http.StatusOK, "account/phone_register.html", "wizard", v)
}

// unregister removes one of the user's backup phones (never the default
// phone: that goes with "disable two-factor authentication").
func (p *Phones) unregister(c *gin.Context) {
	u := auth.UserFrom(c)
	raw := c.Param("id")
	id, err := strconv.ParseUint(raw, 10, 32)
	if err != nil || id == 0 || strconv.FormatUint(id, 10) != raw {
		p.s.Fail(c, http.StatusNotFound, "error_not_found")
		return
	}
	ctx := c.Request.Context()
	db := p.s.DB().WithContext(ctx)
	var dev Device
	if err := db.Where("id = ? AND user_id = ? AND name = ?", id, u.ID, NameBackup).Limit(1).Find(&dev).Error; err != nil {
		p.internal(c, err)
		return
	}
	if dev.ID == 0 {
		p.s.Fail(c, http.StatusNotFound, "error_not_found")
		return
	}
	err = db.Transaction(func(tx *gorm.DB) error {
		res := tx.Where("id = ? AND user_id = ? AND name = ?", dev.ID, u.ID, NameBackup).Delete(&Device{})
		if res.Error != nil {
			return res.Error
		}
		if res.RowsAffected != 1 {
			return gorm.ErrRecordNotFound
		}
		if err := tx.Where("device_id = ?", dev.ID).Delete(&callRow{}).Error; err != nil {
			return err
		}
		return p.s.DevicesChanged(ctx, tx, u.ID)
	})
	if errors.Is(err, gorm.ErrRecordNotFound) {
		p.s.Fail(c, http.StatusNotFound, "error_not_found")
		return
	}
	if err != nil {
		p.internal(c, err)
		return
	}
	if dev.Confirmed {
		p.s.Record(c, auth.Event{Kind: auth.EventDeviceRemoved, UserID: u.ID, Device: dev.Key()})
	}
	l := locale.From(c)
	auth.Flash(c, l.T("phone_backup_removed", "Number", isolate(l, MaskNumber(dev.Number))))
	render.Redirect(c, profileURL)
}

// ProfilePhone is one backup phone on the account security page.
type ProfilePhone struct {
	ID     uint
	Text   string // "Send text message to +31 ** *** **67"
	Masked string
}

// ProfileData is the phone block of the account security page
// (.D.Sections.phone).
type ProfileData struct {
	Phones []ProfilePhone
}

func (p *Phones) profileSection(c *gin.Context, u *auth.User) (any, error) {
	var rows []Device
	err := p.s.DB().WithContext(c.Request.Context()).
		Where("user_id = ? AND name = ? AND confirmed = ? AND method IN ?", u.ID, NameBackup, true, p.Enabled()).
		Order("id").Find(&rows).Error
	if err != nil {
		return nil, err
	}
	l := locale.From(c)
	d := &ProfileData{Phones: make([]ProfilePhone, len(rows))}
	for i := range rows {
		rows[i].p = p
		d.Phones[i] = ProfilePhone{ID: rows[i].ID, Text: DeviceAction(l, &rows[i]), Masked: isolate(l, MaskNumber(rows[i].Number))}
	}
	return d, nil
}

func (p *Phones) save(c *gin.Context, sess ginsessions.Session) bool {
	if err := sess.Save(); err != nil {
		p.internal(c, err)
		return false
	}
	return true
}

// internal answers 500 for store errors: fail closed, the reason logged.
func (p *Phones) internal(c *gin.Context, err error) {
	_ = c.Error(err)
	logError(c, err)
	p.s.Fail(c, http.StatusInternalServerError, "error_internal")
}

func logError(c *gin.Context, err error) {
	httpx.Logger(c.Request.Context()).ErrorContext(c.Request.Context(), "phone", "path", c.Request.URL.Path, "err", err)
}
