package admin

import (
	"context"
	"net/http"
	"strconv"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/gatehouse/gatehouse/auth"
	"github.com/gatehouse/gatehouse/internal/locale"
	"github.com/gatehouse/gatehouse/internal/render"
)

// registerBuiltins adds the user, group, device and security-event admins.
// Password hashes, device keys and code hashes are secret columns: never
// listed, searched, sorted or shown.
func registerBuiltins(s *Site) {
	a := s.auth
	Register(s, ModelAdmin[auth.User]{
		App: "auth", Model: "user", Verbose: "admin_user", VerbosePlural: "admin_users",
		ListDisplay:  []string{"username", "email", "is_staff", "is_superuser", "is_active", "two_factor", "last_login"},
		SearchFields: []string{"username", "email", "first_name", "last_name"},
		ListFilter:   []Filter{BoolFilter("is_staff"), BoolFilter("is_superuser"), BoolFilter("is_active")},
		Ordering:     []string{"username"},
		Computed: map[string]Computed[auth.User]{"two_factor": {Label: "admin_two_factor", Value: func(u *auth.User) string {
			on, err := a.TwoFactorEnabled(context.Background(), u)
			switch {
			case err != nil:
				return "?"
			case on:
				return "✓"
			}
			return "✗"
		}}},
		Fieldsets: []Fieldset{
			{Fields: []string{"username"}},
			{Title: "admin_personal_info", Fields: []string{"first_name", "last_name", "email"}},
			{Title: "admin_permissions", Fields: []string{"is_active", "is_staff", "is_superuser", "groups", "permissions"}},
			{Title: "admin_dates", Fields: []string{"last_login", "date_joined"}},
		},
		ReadOnly: []string{"last_login", "date_joined"},
		// Only superusers change users: otherwise a staff member with
		// change_user could make themselves superuser.
		HasPermission: func(c *gin.Context, u *auth.User, perm string) bool { return perm == "view" || u.IsSuperuser },
		BeforeSave: func(c *gin.Context, u *auth.User, created bool) error {
			if created {
				u.Password = "!" // no usable password until a superuser sets one
				u.Epoch = 1
				u.DeviceEpoch = 1
				u.DateJoined = time.Now()
			}
			return nil
		},
	})
	s.extraPages["GET auth.user/security"] = objectView{"view", s.userSecurity}
	s.extraPages["POST auth.user/security"] = objectView{"view", s.userSecurityPost}
	Register(s, ModelAdmin[auth.Group]{
		App: "auth", Model: "group", Verbose: "admin_group", VerbosePlural: "admin_groups",
		ListDisplay: []string{"name"}, SearchFields: []string{"name"}, Ordering: []string{"name"},
	})
	Register(s, ModelAdmin[auth.TOTPDevice]{
		App: "otp", Model: "totpdevice", Verbose: "admin_totp_device", VerbosePlural: "admin_totp_devices",
		ListDisplay: []string{"id", "user_id", "name", "confirmed", "created_at"}, ReadOnlyModel: true,
		ListFilter: []Filter{BoolFilter("confirmed")},
	})
	Register(s, ModelAdmin[auth.StaticDevice]{
		App: "otp", Model: "staticdevice", Verbose: "admin_static_device", VerbosePlural: "admin_static_devices",
		ListDisplay: []string{"id", "user_id", "name", "created_at"}, ReadOnlyModel: true,
	})
	Register(s, ModelAdmin[auth.Event]{
		App: "otp", Model: "event", Verbose: "admin_event", VerbosePlural: "admin_events",
		ListDisplay: []string{"at", "kind", "user_id", "device", "ip", "detail"}, Ordering: []string{"-at"},
		SearchFields: []string{"kind", "ip", "device"}, ListFilter: []Filter{DateFilter("at")}, ReadOnlyModel: true,
		Count:         CountEstimated,
		HasPermission: func(c *gin.Context, u *auth.User, perm string) bool { return perm == "view" },
	})
}

// securityData is the user admin's two-factor page.
type securityData struct {
	User     *auth.User
	Devices  []string
	Enabled  bool
	Backup   int64
	Error    string
	CanAdmin bool
	ListURL  string
	Action   string
}

// userSecurity shows a user's two-factor status and devices; superusers
// can remove every device or set a new password. No secret is shown.
func (s *Site) userSecurity(c *gin.Context, m *model, obj any) {
	s.renderSecurity(c, m, obj.(*auth.User), "")
}

func (s *Site) renderSecurity(c *gin.Context, m *model, u *auth.User, msg string) {
	l := locale.From(c)
	ctx := c.Request.Context()
	ds, err := s.auth.Devices(ctx, u.ID)
	if err != nil {
		s.serverError(c, err)
		return
	}
	d := &securityData{User: u, Error: msg, CanAdmin: auth.UserFrom(c).IsSuperuser, ListURL: m.url(""), Action: m.url(strconv.FormatUint(uint64(u.ID), 10) + "/security/")}
	for _, dev := range ds {
		d.Devices = append(d.Devices, dev.Label(l))
	}
	d.Enabled, _ = s.auth.TwoFactorEnabled(ctx, u)
	d.Backup, _ = s.auth.BackupCount(ctx, u.ID)
	s.auth.HTML(c, http.StatusOK, "admin/user_security.html", "", s.auth.View(c, l.T("admin_user_security", "User", u.Username), d))
}

func (s *Site) userSecurityPost(c *gin.Context, m *model, obj any) {
	l := locale.From(c)
	u := obj.(*auth.User)
	if !auth.UserFrom(c).IsSuperuser {
		s.auth.Fail(c, http.StatusForbidden, "error_forbidden")
		return
	}
	id := strconv.FormatUint(uint64(u.ID), 10)
	// Removing someone's devices or setting their password is as sensitive
	// as doing it to oneself: sudo mode.
	if !s.auth.RequireSudo(c, m.url(id+"/security/")) {
		return
	}
	switch c.PostForm("op") {
	case "remove_devices":
		if err := s.auth.DisableTwoFactor(c.Request.Context(), u); err != nil {
			s.serverError(c, err)
			return
		}
		// The auth service commits the change itself: the entry follows it.
		s.logAfter(c, m, id, u.Username, []string{l.T("admin_devices_removed")})
		auth.Flash(c, l.T("admin_devices_removed_for", "User", u.Username))
	case "set_password":
		p1, p2 := c.PostForm("password1"), c.PostForm("password2")
		if p1 != p2 {
			s.renderSecurity(c, m, u, l.T("password_mismatch"))
			return
		}
		if p := auth.PasswordProblem(p1, u.Username); p != "" {
			s.renderSecurity(c, m, u, l.T(p))
			return
		}
		if err := s.auth.SetPassword(c.Request.Context(), u, p1); err != nil {
			s.serverError(c, err)
			return
		}
		// The auth service commits the change itself: the entry follows it.
		s.logAfter(c, m, id, u.Username, []string{l.T("field_password")})
		auth.Flash(c, l.T("admin_password_set_for", "User", u.Username))
	default:
		s.badLookup(c, disallowed("unknown operation"))
		return
	}
	render.Redirect(c, m.url(id+"/security/"))
}
