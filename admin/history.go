package admin

import (
	"net/http"
	"strings"
	"time"

	"github.com/gin-gonic/gin"
	"gorm.io/gorm"

	"github.com/gatehouse/gatehouse/auth"
	"github.com/gatehouse/gatehouse/internal/locale"
)

// Action flags of the history log, as Django's admin has them.
const (
	actionAddition = 1
	actionChange   = 2
	actionDeletion = 3
)

// LogEntry is one admin action in the history log.
type LogEntry struct {
	ID         uint      `gorm:"primaryKey"`
	ActionTime time.Time `gorm:"not null;index"`
	UserID     uint      `gorm:"not null;index"`
	Username   string    `gorm:"size:150;not null"`
	App        string    `gorm:"size:100;not null;index:idx_log_object"`
	Model      string    `gorm:"size:100;not null;index:idx_log_object"`
	ObjectID   string    `gorm:"size:64;not null;index:idx_log_object"`
	ObjectRepr string    `gorm:"size:200;not null"`
	Action     int       `gorm:"not null"`
	// Changed lists the labels of the changed fields, one per line.
	Changed string `gorm:"type:text"`
}

// TableName is admin_log.
func (LogEntry) TableName() string { return "admin_log" }

// Verb is the action as a message id suffix: added, changed, deleted.
func (e LogEntry) Verb() string {
	switch e.Action {
	case actionAddition:
		return "admin_log_added"
	case actionDeletion:
		return "admin_log_deleted"
	}
	return "admin_log_changed"
}

// Fields are the changed fields' labels.
func (e LogEntry) Fields() []string {
	if e.Changed == "" {
		return nil
	}
	return strings.Split(e.Changed, "\n")
}

// When formats the action time for display (UTC).
func (e LogEntry) When() string { return e.ActionTime.UTC().Format("2006-01-02 15:04:05 MST") }

// logAction writes a history entry through db: the transaction of the
// change it records, so a change is never kept without its entry (nor the
// entry without the change).
func (s *Site) logAction(db *gorm.DB, c *gin.Context, m *model, id, repr string, action int, changed []string) error {
	u := auth.UserFrom(c)
	if len(repr) > 200 {
		repr = repr[:200]
	}
	e := LogEntry{ActionTime: s.auth.Now(), UserID: u.ID, Username: u.Username, App: m.app, Model: m.name,
		ObjectID: id, ObjectRepr: repr, Action: action, Changed: strings.Join(changed, "\n")}
	return db.Session(&gorm.Session{NewDB: true}).Create(&e).Error
}

// logAfter records a change another package already committed; a failure
// is logged, since the change cannot be undone any more.
func (s *Site) logAfter(c *gin.Context, m *model, id, repr string, changed []string) {
	if err := s.logAction(s.db().WithContext(c.Request.Context()), c, m, id, repr, actionChange, changed); err != nil {
		_ = c.Error(err)
	}
}

// historyData is the history page's data.
type historyData struct {
	Model, Object, ChangeURL, ListURL string
	Entries                           []LogEntry
}

func (s *Site) history(c *gin.Context, m *model, obj any) {
	l := locale.From(c)
	id := m.idOf(c, obj)
	var entries []LogEntry
	if err := s.db().WithContext(c.Request.Context()).Where("app = ? AND model = ? AND object_id = ?", m.app, m.name, id).
		Order("action_time, id").Limit(1000).Find(&entries).Error; err != nil {
		s.serverError(c, err)
		return
	}
	d := &historyData{Model: tr(l, m.verbose, m.verbose), Object: reprOf(obj, m.verbose, id), ChangeURL: m.url(id + "/change/"), ListURL: m.url(""), Entries: entries}
	s.auth.HTML(c, http.StatusOK, "admin/history.html", "", s.auth.View(c, l.T("admin_history_title", "Object", d.Object), d))
}
