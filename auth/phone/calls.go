package phone

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"

	"github.com/gatehouse/gatehouse/internal/httpx"
	"github.com/gatehouse/gatehouse/internal/locale"
)

// callRow is a voice call waiting for its gateway to fetch what to say.
// The call id is in the callback URL; the row is keyed by its SHA-256, so
// reading the table does not give the URLs. The token is sealed, bound to
// the row. Used turns true when the token was read out (once).
type callRow struct {
	ID          string `gorm:"primaryKey;size:64"`
	UserID      uint   `gorm:"not null;index"`
	DeviceID    uint   `gorm:"not null"`
	Number      string `gorm:"size:32;not null"`
	SealedToken []byte `gorm:"not null" json:"-"`
	Lang        string `gorm:"size:35;not null"`
	ExpiresAt   int64  `gorm:"not null;index"` // unix milliseconds
	Used        bool   `gorm:"not null;default:false"`
}

// TableName is gatehouse_phone_call.
func (callRow) TableName() string { return "gatehouse_phone_call" }

// callIDLen is the length of a call id: 32 random bytes, base64url.
const callIDLen = 43

func callKey(id string) string {
	h := sha256.Sum256([]byte("gatehouse phone call\x00" + id))
	return hex.EncodeToString(h[:])
}

func tokenContext(key string) string { return "phone-call/" + key }

// newCall stores a pending call for code, valid as long as the code, and
// returns its opaque id. Expired calls are cleared on the way.
func (p *Phones) newCall(ctx context.Context, d *Device, code string, l *locale.Lang, issued int64) (string, error) {
	raw := make([]byte, 32)
	if _, err := rand.Read(raw); err != nil {
		return "", err
	}
	id := base64.RawURLEncoding.EncodeToString(raw)
	key := callKey(id)
	db := p.s.DB().WithContext(ctx)
	now := p.s.Now().UnixMilli()
	if err := db.Where("expires_at < ?", now).Delete(&callRow{}).Error; err != nil {
		return "", err
	}
	row := callRow{ID: key, UserID: d.UserID, DeviceID: d.ID, Number: d.Number,
		SealedToken: p.s.Seal([]byte(code), tokenContext(key)), Lang: l.Tag,
		ExpiresAt: issued + p.cfg.CodeValidity.Milliseconds()}
	if err := db.Create(&row).Error; err != nil {
		return "", err
	}
	return id, nil
}

func (p *Phones) dropCall(ctx context.Context, id string) {
	if err := p.s.DB().WithContext(ctx).Where("id = ?", callKey(id)).Delete(&callRow{}).Error; err != nil {
		httpx.Logger(ctx).ErrorContext(ctx, "phone: drop call", "err", err)
	}
}

// validCallID checks the shape of an id before any lookup.
func validCallID(id string) bool {
	if len(id) != callIDLen {
		return false
	}
	for i := 0; i < len(id); i++ {
		c := id[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '_') {
			return false
		}
	}
	return true
}

func (p *Phones) callRow(ctx context.Context, id string) (*callRow, error) {
	if !validCallID(id) {
		return nil, ErrNoCall
	}
	var row callRow
	err := p.s.DB().WithContext(ctx).Where("id = ? AND used = ? AND expires_at > ?", callKey(id), false, p.s.Now().UnixMilli()).
		Limit(1).Find(&row).Error
	if err != nil {
		return nil, err
	}
	if row.ID == "" {
		return nil, ErrNoCall
	}
	return &row, nil
}

func (p *Phones) pendingCall(row *callRow) *PendingCall {
	cat := p.s.Catalog()
	fallback := cat.Lang(locale.Source)
	l := cat.Lang(row.Lang)
	if l == nil {
		l = fallback
	}
	return &PendingCall{To: row.Number, Lang: l, Fallback: fallback}
}

// PeekCall returns a pending call without its token.
func (p *Phones) PeekCall(ctx context.Context, id string) (*PendingCall, error) {
	row, err := p.callRow(ctx, id)
	if err != nil {
		return nil, err
	}
	return p.pendingCall(row), nil
}

// TakeCall returns a pending call with its token and marks it used with a
// conditional UPDATE: only one caller ever gets the token.
func (p *Phones) TakeCall(ctx context.Context, id string) (*PendingCall, error) {
	row, err := p.callRow(ctx, id)
	if err != nil {
		return nil, err
	}
	res := p.s.DB().WithContext(ctx).Model(&callRow{}).
		Where("id = ? AND used = ? AND expires_at > ?", row.ID, false, p.s.Now().UnixMilli()).Update("used", true)
	if res.Error != nil {
		return nil, res.Error
	}
	if res.RowsAffected != 1 {
		return nil, ErrNoCall
	}
	token, err := p.s.Open(row.SealedToken, tokenContext(row.ID))
	if err != nil {
		return nil, err
	}
	pc := p.pendingCall(row)
	pc.Token = string(token)
	return pc, nil
}

// Prune deletes expired pending calls and past cooldowns (auth.Pruner);
// the first method carries the tables, so only it prunes.
func (m *Method) Prune(ctx context.Context) (int64, error) {
	if m != m.p.methods[0] {
		return 0, nil
	}
	now := m.p.s.Now().UnixMilli()
	calls := m.db(ctx).Where("expires_at < ?", now).Delete(&callRow{})
	if calls.Error != nil {
		return 0, calls.Error
	}
	cool := m.db(ctx).Where("until_ms <= ?", now).Delete(&cooldownRow{})
	return calls.RowsAffected + cool.RowsAffected, cool.Error
}
