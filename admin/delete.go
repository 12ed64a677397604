package admin

import (
	"fmt"
	"net/http"
	"reflect"
	"strconv"
	"strings"

	"github.com/gin-gonic/gin"
	"gorm.io/gorm"
	"gorm.io/gorm/clause"
	"gorm.io/gorm/schema"

	"github.com/gatehouse/gatehouse/auth"
	"github.com/gatehouse/gatehouse/internal/locale"
	"github.com/gatehouse/gatehouse/internal/render"
)

// deleted is an object to delete with what goes with it.
type deleted struct {
	ID, Repr string
	Related  []string // "Loan: Ana, due 2026-02-01"
	More     int      // related objects beyond the listed ones
}

// deleteData is the delete confirmation page's data.
type deleteData struct {
	Model, ModelPlural, ListURL, Action string
	Objects                             []deleted
	Selected                            []string // ids, for the bulk action's second post
}

const relatedListed = 20

// cascade lists what deleting obj takes along: has-many and has-one
// children, and many-to-many links.
func (s *Site) cascade(c *gin.Context, m *model, obj any) (deleted, error) {
	id := m.idOf(c, obj)
	d := deleted{ID: id, Repr: reprOf(obj, m.verbose, id)}
	l := locale.From(c)
	rels := append(append([]*schema.Relationship{}, m.schema.Relationships.HasMany...), m.schema.Relationships.HasOne...)
	for _, r := range rels {
		rs := r.FieldSchema
		// The child's translated model name when it has an admin.
		name := humanize(rs.Name)
		if cm := s.modelOf(rs.ModelType); cm != nil {
			name = tr(l, cm.verbose, cm.verbose)
		}
		slice := reflect.New(reflect.SliceOf(rs.ModelType))
		q := s.db().WithContext(c.Request.Context()).Where(clause.Eq{Column: clause.Column{Name: r.References[0].ForeignKey.DBName}, Value: id})
		var n int64
		if err := q.Session(&gorm.Session{}).Model(reflect.New(rs.ModelType).Interface()).Count(&n).Error; err != nil {
			return d, err
		}
		if err := q.Session(&gorm.Session{}).Limit(relatedListed).Find(slice.Interface()).Error; err != nil {
			return d, err
		}
		for i := 0; i < slice.Elem().Len(); i++ {
			e := slice.Elem().Index(i)
			cid, _ := rs.PrioritizedPrimaryField.ValueOf(c.Request.Context(), e)
			d.Related = append(d.Related, name+": "+reprOf(e.Addr().Interface(), rs.Name, cid))
		}
		d.More += int(n) - slice.Elem().Len()
	}
	for _, r := range m.schema.Relationships.Many2Many {
		n := s.db().WithContext(c.Request.Context()).Model(obj).Association(r.Name).Count()
		if n > 0 {
			label := humanize(r.Name)
			if _, ok := m.cols[strings.ToLower(r.Name)]; ok {
				label = m.label(l, strings.ToLower(r.Name)) // the field's translated label
			}
			d.Related = append(d.Related, fmt.Sprintf("%s: %d", label, n))
		}
	}
	return d, nil
}

func (s *Site) deleteForm(c *gin.Context, m *model, obj any) {
	d, err := s.cascade(c, m, obj)
	if err != nil {
		s.serverError(c, err)
		return
	}
	s.renderDelete(c, m, []deleted{d}, m.url(d.ID+"/delete/"), nil)
}

func (s *Site) renderDelete(c *gin.Context, m *model, objs []deleted, action string, selected []string) {
	l := locale.From(c)
	data := &deleteData{Model: tr(l, m.verbose, m.verbose), ModelPlural: tr(l, m.plural, m.plural), ListURL: m.url(""), Action: action, Objects: objs, Selected: selected}
	s.auth.HTML(c, http.StatusOK, "admin/delete_confirmation.html", "", s.auth.View(c, l.T("admin_delete_title"), data))
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
		if err := tx.Select(clause.Associations).Delete(obj).Error; err != nil {
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
	if err := s.remove(c, m, obj); err != nil {
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
			s.renderDelete(c, m, objs, m.url(""), idStrs)
			return
		}
		for i := 0; i < rv.Len(); i++ {
			if err := s.remove(c, m, rv.Index(i).Addr().Interface()); err != nil {
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
