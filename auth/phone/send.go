package phone

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/gin-gonic/gin"
	"gorm.io/gorm/clause"

	"github.com/gatehouse/gatehouse/auth"
	"github.com/gatehouse/gatehouse/internal/httpx"
	"github.com/gatehouse/gatehouse/internal/locale"
)

// cooldownRow says until when (unix milliseconds) no code may be sent
// under its name ("number/+31101234567"). It lives in the database, so the
// cooldown holds across instances.
type cooldownRow struct {
	Name  string `gorm:"primaryKey;size:191"`
	Until int64  `gorm:"column:until_ms;not null;default:0"`
}

// TableName is gatehouse_phone_cooldown.
func (cooldownRow) TableName() string { return "gatehouse_phone_cooldown" }

var (
	errBusy      = errors.New("phone: concurrent sends kept winning")
	errNoGateway = errors.New("phone: the method's gateway is not set")
)

// send delivers a fresh (or the still fresh) code to d, after the
// country, cooldown and budget checks. Conditions the user can act on are
// *auth.UserError; a gateway failure is logged and becomes one too.
func (p *Phones) send(c *gin.Context, u *auth.User, d *Device) error {
	ctx := c.Request.Context()
	if !p.allowed(d.Number) {
		return &auth.UserError{ID: "phone_country_not_allowed"}
	}
	if err := p.gate(c, u, d); err != nil {
		return err
	}
	code, issued, err := p.issue(ctx, d)
	if err != nil {
		return err
	}
	l := locale.From(c)
	msg := Message{To: d.Number, Token: code, Lang: l}
	switch d.Method {
	case MethodCall:
		if p.cfg.Call == nil {
			return p.gatewayError(c, d, errNoGateway)
		}
		id, err := p.newCall(ctx, d, code, l, issued)
		if err != nil {
			return err
		}
		err = p.cfg.Call.MakeCall(ctx, Call{Message: msg, ID: id})
		if err != nil {
			// The call never happened: its id must not stay usable.
			p.dropCall(ctx, id)
		}
		return p.gatewayError(c, d, err)
	default:
		if p.cfg.SMS == nil {
			return p.gatewayError(c, d, errNoGateway)
		}
		return p.gatewayError(c, d, p.cfg.SMS.SendSMS(ctx, msg))
	}
}

func (p *Phones) gatewayError(c *gin.Context, d *Device, err error) error {
	if err == nil {
		return nil
	}
	httpx.Logger(c.Request.Context()).ErrorContext(c.Request.Context(), "phone: gateway failed", "method", d.Method, "device", d.Key(), "err", err)
	return &auth.UserError{ID: "phone_send_failed", Args: []any{"Number", isolate(locale.From(c), MaskNumber(d.Number))}}
}

// gate applies the cooldown per number, then the budgets per user,
// number, country calling code and site.
func (p *Phones) gate(c *gin.Context, u *auth.User, d *Device) error {
	ctx := c.Request.Context()
	if p.cfg.SendCooldown > 0 {
		wait, err := p.cooldown(ctx, "number/"+d.Number, p.cfg.SendCooldown)
		if err != nil {
			return err
		}
		if wait > 0 {
			secs := int((wait + time.Second - 1) / time.Second)
			return &auth.UserError{ID: "phone_send_cooldown", Args: []any{"Count", secs}}
		}
	}
	budgets := []struct {
		scope, key string
		limit      Limit
	}{
		{"user", fmt.Sprintf("phone/user/%d", u.ID), p.cfg.UserLimit},
		{"number", "phone/number/" + d.Number, p.cfg.NumberLimit},
		{"country prefix", "phone/prefix/" + CountryPrefix(d.Number), p.cfg.PrefixLimit},
		{"site", "phone/global", p.cfg.GlobalLimit},
	}
	for _, b := range budgets {
		if b.limit.Max <= 0 {
			continue
		}
		err := p.s.Budget(ctx, b.key, b.limit.Max, b.limit.Window)
		var te *auth.ThrottledError
		if errors.As(err, &te) {
			p.s.Record(c, auth.Event{Kind: auth.EventThrottled, UserID: u.ID, Device: d.Key(),
				Detail: fmt.Sprintf("phone send budget per %s: %d per %s", b.scope, b.limit.Max, b.limit.Window)})
			return &auth.UserError{ID: "phone_send_limit"}
		}
		if err != nil {
			return err
		}
	}
	return nil
}

// cooldown claims name for d: 0 when the send may go ahead, else how long
// to wait. A conditional UPDATE (or the INSERT of a new row) claims it, so
// of concurrent sends only one gets through.
func (p *Phones) cooldown(ctx context.Context, name string, d time.Duration) (time.Duration, error) {
	db := p.s.DB().WithContext(ctx)
	for range 5 {
		now := p.s.Now().UnixMilli()
		until := now + d.Milliseconds()
		res := db.Model(&cooldownRow{}).Where("name = ? AND until_ms <= ?", name, now).Update("until_ms", until)
		if res.Error != nil {
			return 0, res.Error
		}
		if res.RowsAffected == 1 {
			return 0, nil
		}
		var row cooldownRow
		if err := db.Where("name = ?", name).Limit(1).Find(&row).Error; err != nil {
			return 0, err
		}
		if row.Name == "" {
			res := db.Clauses(clause.OnConflict{DoNothing: true}).Create(&cooldownRow{Name: name, Until: until})
			if res.Error != nil {
				return 0, res.Error
			}
			if res.RowsAffected == 1 {
				return 0, nil
			}
			continue
		}
		if row.Until > now {
			return time.Duration(row.Until-now) * time.Millisecond, nil
		}
	}
	return 0, errBusy
}

// issue returns the code to send and when it was made. An unused code
// younger than half the validity is sent again (a resend within moments
// must not void the message on its way); otherwise a conditional UPDATE
// moves to a new counter, voiding every earlier code.
func (p *Phones) issue(ctx context.Context, d *Device) (string, int64, error) {
	db := p.s.DB().WithContext(ctx)
	for range 5 {
		var row Device
		if err := db.Where("id = ?", d.ID).Take(&row).Error; err != nil {
			return "", 0, err
		}
		row.p = p
		now := p.s.Now().UnixMilli()
		age := now - row.IssuedAt
		if row.Counter > row.UsedCounter && row.IssuedAt > 0 && age >= 0 && age < p.cfg.CodeValidity.Milliseconds()/2 {
			code, err := row.code(row.Counter)
			return code, row.IssuedAt, err
		}
		next := row.Counter + 1
		res := db.Model(&Device{}).Where("id = ? AND counter = ?", row.ID, row.Counter).
			Updates(map[string]any{"counter": next, "issued_at": now})
		if res.Error != nil {
			return "", 0, res.Error
		}
		if res.RowsAffected == 1 {
			d.Counter, d.IssuedAt = next, now
			code, err := row.code(next)
			return code, now, err
		}
	}
	return "", 0, errBusy
}
