package admin

import (
	"errors"
	"net/http"
	"reflect"
	"strconv"

	"github.com/gin-gonic/gin"
	"gorm.io/gorm"
	"gorm.io/gorm/clause"

	"github.com/gatehouse/gatehouse/auth"
	"github.com/gatehouse/gatehouse/internal/locale"
	"github.com/gatehouse/gatehouse/internal/render"
)

// deleted is an object to delete with what deleting it does to the rows
// that point at it (see onDelete).
type deleted struct {
	ID, Repr  string
	Related   relatedList // deleted with it (CASCADE) and many-to-many links
	Unlinked  relatedList // kept, their link cleared (SET NULL)
	Protected relatedList // refuse the delete (PROTECT)
	// Denied are the models whose rows would go with it but which the
	// user may not delete (Django's perms_needed): they refuse it too.
	Denied []string
}

// Blocked reports whether protected rows or missing delete permissions
// refuse the delete.
func (d deleted) Blocked() bool { return !d.Protected.Empty() || len(d.Denied) > 0 }

// deleteData is the delete confirmation page's data.
type deleteData struct {
	Model, ModelPlural, ListURL, Action string
	Objects                             []deleted
	Selected                            []string // ids, for the bulk action's second post
	Protected                           bool     // some object cannot be deleted: no confirm button
	Unlinked                            bool     // some rows will be unlinked (SET NULL)
}

const relatedListed = 20

// cascade surveys what deleting obj does: the rows that go with it, those
// unlinked and those that protect it.
func (s *Site) cascade(c *gin.Context, m *model, obj any) (deleted, error) {
	id := m.idOf(c, obj)
	d := deleted{ID: id, Repr: reprOf(obj, m.verbose, id)}
	return d, s.survey(c, &d, m.oneRow(c, obj), 0)
}

func (s *Site) deleteForm(c *gin.Context, m *model, obj any) {
	d, err := s.cascade(c, m, obj)
	if err != nil {
		s.serverError(c, err)
		return
	}
	s.renderDelete(c, m, []deleted{d}, m.url(d.ID+"/delete/"), nil, http.StatusOK)
}

// renderDelete shows the confirmation page, or, when protected rows
// refuse the delete, the page that lists them without a confirm button
// (Django's "Cannot delete").
func (s *Site) renderDelete(c *gin.Context, m *model, objs []deleted, action string, selected []string, status int) {
	l := locale.From(c)
	data := &deleteData{Model: tr(l, m.verbose, m.verbose), ModelPlural: tr(l, m.plural, m.plural), ListURL: m.url(""), Action: action, Objects: objs, Selected: selected}
	title := l.T("admin_delete_title")
	for _, o := range objs {
		data.Protected = data.Protected || o.Blocked()
		data.Unlinked = data.Unlinked || !o.Unlinked.Empty()
	}
	if data.Protected {
		title = l.T("admin_delete_protected_title", "Name", data.Model)
	}
	s.auth.HTML(c, status, "admin/delete_confirmation.html", "", s.auth.View(c, title, data))
}

// refuseProtected answers a delete POST that protected rows refuse: 409
// Conflict with the page that lists them. Nothing was deleted.
func (s *Site) refuseProtected(c *gin.Context, m *model, objs []any, action string, selected []string) {
	var ds []deleted
	for _, obj := range objs {
		d, err := s.cascade(c, m, obj)
		if err != nil {
			s.serverError(c, err)
			return
		}
		ds = append(ds, d)
	}
	_ = c.Error(errProtected)
	s.renderDelete(c, m, ds, action, selected, http.StatusConflict)
}

// remove deletes obj with its children and links, in a transaction, with
// the delete hooks and a history entry.
func (s *Site) remove(c *gin.Context, m *model, obj any) error {
	id := m.idOf(c, obj)
	repr := reprOf(obj, m.verbose, id)
	err := s.db().WithContext(c.Request.Context()).Transaction(func(tx *gorm.DB) error {
		if m.hooks.beforeDelete != nil {
			if err := m.hooks.beforeDelete(c, obj); err != nil {
				return &hookError{err}
			}
		}
		// What points at obj first, as declared (onDelete), then obj and
		// its history entry: one transaction, so a refused or failed step
		// deletes nothing.
		if err := s.deleteRows(tx, m.oneRow(c, obj), 0); err != nil {
			return err
		}
		if err := tx.Delete(obj).Error; err != nil {
			return err
		}
		return s.logAction(tx, c, m, id, repr, actionDeletion, nil)
	})
	if err != nil {
		return err
	}
	if m.hooks.afterDelete != nil {
		m.hooks.afterDelete(c, obj)
	}
	return nil
}

func (s *Site) deletePost(c *gin.Context, m *model, obj any) {
	l := locale.From(c)
	id := m.idOf(c, obj)
	if err := s.checkDeletable(c, m, []any{obj}); err != nil {
		if isProtected(err) {
			s.refuseProtected(c, m, []any{obj}, m.url(id+"/delete/"), nil)
			return
		}
		s.serverError(c, err)
		return
	}
	if err := s.remove(c, m, obj); err != nil {
		if isProtected(err) {
			s.refuseProtected(c, m, []any{obj}, m.url(id+"/delete/"), nil)
			return
		}
		if he, ok := err.(*hookError); ok {
			auth.Flash(c, he.err.Error())
			render.Redirect(c, m.url(id+"/change/"))
			return
		}
		s.serverError(c, err)
		return
	}
	auth.Flash(c, l.T("admin_deleted", "Name", tr(l, m.verbose, m.verbose), "Object", reprOf(obj, m.verbose, id)))
	render.Redirect(c, m.url(""))
}

// runAction handles the changelist's action form: delete_selected (with a
// confirmation page) or a registered action, on the selected rows only.
func (s *Site) runAction(c *gin.Context, m *model) {
	l := locale.From(c)
	name := c.PostForm("action")
	var ids []any
	var idStrs []string
	for _, raw := range c.PostFormArray("_selected_action") {
		id, err := parseID(raw)
		if err != nil {
			s.badLookup(c, disallowed("%q is not an id", raw))
			return
		}
		ids = append(ids, id)
		idStrs = append(idStrs, strconv.FormatUint(uint64(id), 10))
	}
	if len(ids) == 0 {
		auth.Flash(c, l.T("admin_none_selected"))
		render.Redirect(c, m.url(""))
		return
	}
	if len(ids) > 10000 {
		s.badLookup(c, disallowed("too many rows selected"))
		return
	}
	rows := m.newSlice()
	if err := m.scoped(c).Where(clause.IN{Column: m.col(m.pk.DBName), Values: ids}).Find(rows).Error; err != nil {
		s.serverError(c, err)
		return
	}
	rv := reflect.ValueOf(rows).Elem()
	if name == "delete_selected" {
		if !s.can(c, m, "delete") {
			s.auth.Fail(c, http.StatusForbidden, "error_forbidden")
			return
		}
		if c.PostForm("post") != "yes" {
			var objs []deleted
			for i := 0; i < rv.Len(); i++ {
				d, err := s.cascade(c, m, rv.Index(i).Addr().Interface())
				if err != nil {
					s.serverError(c, err)
					return
				}
				objs = append(objs, d)
			}
			s.renderDelete(c, m, objs, m.url(""), idStrs, http.StatusOK)
			return
		}
		// Every row must be deletable before any is deleted.
		var objs []any
		for i := 0; i < rv.Len(); i++ {
			objs = append(objs, rv.Index(i).Addr().Interface())
		}
		if err := s.checkDeletable(c, m, objs); err != nil {
			if isProtected(err) {
				s.refuseProtected(c, m, objs, m.url(""), idStrs)
				return
			}
			s.serverError(c, err)
			return
		}
		for i, obj := range objs {
			if err := s.remove(c, m, obj); err != nil {
				if isProtected(err) && i == 0 {
					s.refuseProtected(c, m, objs, m.url(""), idStrs)
					return
				}
				s.serverError(c, err)
				return
			}
		}
		auth.Flash(c, l.T("admin_deleted_many", "Count", rv.Len(), "Name", tr(l, m.plural, m.plural)))
		render.Redirect(c, m.url(""))
		return
	}
	for _, a := range m.actions {
		if a.name != name {
			continue
		}
		if !s.can(c, m, cmpOr(a.perm, "change")) {
			s.auth.Fail(c, http.StatusForbidden, "error_forbidden")
			return
		}
		// The action and its history entries are one transaction.
		var msg string
		err := s.db().WithContext(c.Request.Context()).Transaction(func(tx *gorm.DB) error {
			var err error
			if msg, err = a.run(c, tx, rows); err != nil {
				return err
			}
			for i := 0; i < rv.Len(); i++ {
				obj := rv.Index(i).Addr().Interface()
				id := m.idOf(c, obj)
				if err := s.logAction(tx, c, m, id, reprOf(obj, m.verbose, id), actionChange, []string{tr(l, a.label, a.label)}); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			s.serverError(c, err)
			return
		}
		if msg != "" {
			auth.Flash(c, msg)
		}
		render.Redirect(c, m.url(""))
		return
	}
	s.badLookup(c, disallowed("unknown action %q", name))
}

// isProtected reports a delete refused by protected rows: found by the
// admin, or by the database's own foreign key (a row added meanwhile).
func isProtected(err error) bool {
	return errors.Is(err, errProtected) || errors.Is(err, gorm.ErrForeignKeyViolated)
}

// checkDeletable surveys objs and answers errProtected if any is refused.
func (s *Site) checkDeletable(c *gin.Context, m *model, objs []any) error {
	for _, obj := range objs {
		d, err := s.cascade(c, m, obj)
		if err != nil {
			return err
		}
		if d.Blocked() {
			return errProtected
		}
	}
	return nil
}
