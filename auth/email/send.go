package email

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	htmltemplate "html/template"
	"io/fs"
	"strconv"
	"strings"
	texttemplate "text/template"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/wneessen/go-mail"

	"github.com/gatehouse/gatehouse/auth"
	"github.com/gatehouse/gatehouse/internal/httpx"
	"github.com/gatehouse/gatehouse/internal/locale"
)

// send mails a fresh code to the device's address: the cooldown is
// claimed first (a conditional UPDATE of SentAt, so concurrent requests
// send one mail), then the budgets, then the code is stored and sent.
func (m *Method) send(c *gin.Context, u *auth.User, row *Device) error {
	ctx := c.Request.Context()
	if !ValidAddress(row.Email) {
		return errNoAddress
	}
	now := m.s.Now()
	ms := now.UnixMilli()
	res := m.db(ctx).Model(&Device{}).Where("id = ? AND sent_at <= ?", row.ID, ms-m.cfg.Cooldown.Milliseconds()).Update("sent_at", ms)
	if res.Error != nil {
		return res.Error
	}
	if res.RowsAffected != 1 {
		var cur Device
		if err := m.db(ctx).Select("sent_at").Where("id = ?", row.ID).Take(&cur).Error; err != nil {
			return err
		}
		wait := time.Duration(cur.SentAt+m.cfg.Cooldown.Milliseconds()-ms) * time.Millisecond
		secs := max(1, int((wait+time.Second-1)/time.Second))
		return &auth.UserError{ID: "email_cooldown", Args: []any{"Count", secs}}
	}
	if err := m.claimBudgets(ctx, u, row.Email); err != nil {
		return err
	}
	code, err := newCode()
	if err != nil {
		return err
	}
	valid := now.Add(m.cfg.TokenValidity).UnixMilli()
	res = m.db(ctx).Model(&Device{}).Where("id = ? AND email = ?", row.ID, row.Email).
		Updates(map[string]any{"token_hash": m.codeHash(row.ID, row.Email, code), "valid_until": valid})
	if res.Error != nil {
		return res.Error
	}
	if res.RowsAffected != 1 {
		return errors.New("email: the address changed while sending")
	}
	msg, err := m.message(locale.From(c), u, row.Email, code)
	if err == nil {
		err = m.deliver(ctx, msg)
	}
	if err != nil {
		// Nothing arrived: void the code and give the cooldown back, so
		// the user can try again at once (the budgets still count).
		_ = m.db(ctx).Model(&Device{}).Where("id = ? AND sent_at = ?", row.ID, ms).
			Updates(map[string]any{"token_hash": "", "valid_until": 0, "sent_at": row.SentAt}).Error
		return &sendError{err}
	}
	httpx.Logger(ctx).InfoContext(ctx, "email: code sent", "user_id", u.ID, "device", Code+"/"+strconv.FormatUint(uint64(row.ID), 10), "to", MaskEmail(row.Email))
	return nil
}

// claimBudgets counts one send against each budget; the first one that is
// spent refuses with a message the user can act on.
func (m *Method) claimBudgets(ctx context.Context, u *auth.User, addr string) error {
	budgets := []struct {
		key    string
		max    int
		window time.Duration
	}{
		{"email-user/" + strconv.FormatUint(uint64(u.ID), 10), m.cfg.MaxPerUserHour, time.Hour},
		{"email-to/" + m.s.MAC("email budget", strings.ToLower(addr))[:32], m.cfg.MaxPerAddressDay, 24 * time.Hour},
		{"email-all", m.cfg.MaxPerHour, time.Hour},
	}
	for _, b := range budgets {
		if b.max <= 0 {
			continue
		}
		if err := m.s.Budget(ctx, b.key, b.max, b.window); err != nil {
			var te *auth.ThrottledError
			if errors.As(err, &te) {
				httpx.Logger(ctx).WarnContext(ctx, "email: send budget spent", "budget", strings.SplitN(b.key, "/", 2)[0], "user_id", u.ID)
				return &auth.UserError{ID: "email_budget"}
			}
			return err
		}
	}
	return nil
}

// mailData is what the email templates see.
type mailData struct {
	lang    *locale.Lang
	Lang    string // language tag, for <html lang>
	Dir     string // "ltr" or "rtl"
	Site    string
	Name    string // the user's first name, or username
	Code    string
	Address string // the recipient
	Minutes int    // validity, when it is whole minutes
	Seconds int    // validity, otherwise
}

// T translates in the recipient's language (the request's).
func (d *mailData) T(id string, args ...any) string { return d.lang.T(id, args...) }

// message renders the code email in language l.
func (m *Method) message(l *locale.Lang, u *auth.User, addr, code string) (*mail.Msg, error) {
	d := &mailData{lang: l, Lang: l.Tag, Dir: l.Dir, Site: m.site, Name: u.FirstName, Code: code, Address: addr}
	if d.Name == "" {
		d.Name = u.Username
	}
	if v := m.cfg.TokenValidity; v%time.Minute == 0 {
		d.Minutes = int(v / time.Minute)
	} else {
		d.Seconds = int(v / time.Second)
	}
	subject, err := m.renderText("code_subject.txt", d)
	if err != nil {
		return nil, err
	}
	text, err := m.renderText("code_body.txt", d)
	if err != nil {
		return nil, err
	}
	html, err := m.renderHTML("code_body.html", d)
	if err != nil {
		return nil, err
	}
	msg := mail.NewMsg(mail.WithNoDefaultUserAgent())
	if err := msg.From(m.cfg.From); err != nil {
		return nil, err
	}
	if err := msg.To(addr); err != nil {
		return nil, err
	}
	msg.Subject(strings.Join(strings.Fields(subject), " "))
	msg.SetDateWithValue(m.s.Now())
	msg.SetMessageID()
	msg.SetGenHeader(mail.HeaderContentLang, l.Tag)
	msg.SetGenHeader("Auto-Submitted", "auto-generated")
	msg.SetBodyString(mail.TypeTextPlain, text)
	msg.AddAlternativeString(mail.TypeTextHTML, html)
	return msg, nil
}

// Templates are read on every send, so a site's edits apply at once;
// they are a few hundred bytes.
func (m *Method) renderText(name string, d *mailData) (string, error) {
	src, err := fs.ReadFile(m.tpl, name)
	if err != nil {
		return "", err
	}
	t, err := texttemplate.New(name).Option("missingkey=error").Parse(string(src))
	if err != nil {
		return "", err
	}
	var b bytes.Buffer
	err = t.Execute(&b, d)
	return b.String(), err
}

func (m *Method) renderHTML(name string, d *mailData) (string, error) {
	src, err := fs.ReadFile(m.tpl, name)
	if err != nil {
		return "", err
	}
	t, err := htmltemplate.New(name).Option("missingkey=error").Parse(string(src))
	if err != nil {
		return "", err
	}
	var b bytes.Buffer
	err = t.Execute(&b, d)
	return b.String(), err
}

// deliver hands msg to the SMTP server with a fresh connection.
func (m *Method) deliver(ctx context.Context, msg *mail.Msg) error {
	opts := []mail.Option{mail.WithPort(m.cfg.Port), mail.WithTimeout(m.cfg.Timeout)}
	switch m.cfg.TLS {
	case TLSNone:
		opts = append(opts, mail.WithTLSPolicy(mail.NoTLS))
	case TLSStartTLS:
		opts = append(opts, mail.WithTLSPolicy(mail.TLSMandatory))
	case TLSImplicit:
		opts = append(opts, mail.WithSSL())
	}
	if m.cfg.TLSConfig != nil {
		opts = append(opts, mail.WithTLSConfig(m.cfg.TLSConfig))
	}
	if m.cfg.User != "" {
		opts = append(opts, mail.WithSMTPAuth(mail.SMTPAuthAutoDiscover), mail.WithUsername(m.cfg.User), mail.WithPassword(m.cfg.Password))
	}
	client, err := mail.NewClient(m.cfg.Host, opts...)
	if err != nil {
		return err
	}
	if err := client.DialAndSendWithContext(ctx, msg); err != nil {
		return fmt.Errorf("SMTP: %w", err)
	}
	return nil
}
