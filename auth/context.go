package auth

import (
	"errors"
	"net/http"
	"net/url"

	ginsessions "github.com/gin-contrib/sessions"
	"github.com/gin-gonic/gin"
	"gorm.io/gorm"

	"github.com/gatehouse/gatehouse/auth/session"
	"github.com/gatehouse/gatehouse/internal/render"
)

// Session keys. After the password step the pending state is user id,
// credential epoch and time only; nothing secret is ever kept.
const (
	kUID         = "uid"
	kEpoch       = "epoch"
	kDevice      = "otp_device"
	kAuthAt      = "auth_at"
	kLoginUID    = "login_uid"
	kLoginEpoch  = "login_epoch"
	kLoginDevs   = "login_device_epoch"
	kLoginAt     = "login_at"
	kLoginStep   = "login_step"
	kLoginDevice = "login_device"
	kLoginNext   = "login_next"
	kSetupStep   = "setup_step"
	kSetupMethod = "setup_method"
	kSetupDevice = "setup_device"
	kSetupNext   = "setup_next"
)

const (
	ctxUser   = "gatehouse.user"
	ctxDevice = "gatehouse.device"
)

// loadUser puts the verified user, if any, into the context. A session
// whose user is gone, inactive or has a newer credential epoch (password
// changed, devices removed) is destroyed.
func (s *Service) loadUser() gin.HandlerFunc {
	return func(c *gin.Context) {
		sess := ginsessions.Default(c)
		s.withRequestInfo(c)
		uid, _ := sess.Get(kUID).(int64)
		active := uid != 0 || sess.Get(kLoginUID) != nil || sess.Get(kSetupStep) != nil
		if uid != 0 {
			var u User
			err := s.db.WithContext(c.Request.Context()).Where("id = ?", uid).Take(&u).Error
			switch {
			case errors.Is(err, gorm.ErrRecordNotFound) || (err == nil && (!u.IsActive || u.Epoch != sess.Get(kEpoch))):
				session.Destroy(sess)
				if !s.saveSession(c, sess) {
					return
				}
				active = false
			case err != nil:
				s.internalError(c, err) // fail closed
				return
			default:
				c.Set(ctxUser, &u)
				c.Set(ctxDevice, sess.Get(kDevice))
			}
		}
		if active && session.Touch(sess, s.clock.Now()) && !s.saveSession(c, sess) {
			return
		}
		c.Next()
	}
}

// UserFrom returns the verified user of the request, or nil. A user who
// only passed the password step is not returned: that is not a login.
func UserFrom(c *gin.Context) *User {
	if v, ok := c.Get(ctxUser); ok {
		return v.(*User)
	}
	return nil
}

// VerifiedDevice returns the key of the device that verified the session.
func VerifiedDevice(c *gin.Context) string {
	s, _ := c.Get(ctxDevice)
	k, _ := s.(string)
	return k
}

// GuardOptions are the seed's OTPRequiredMixin options.
type GuardOptions struct {
	// RaiseAnonymous answers 403 to anonymous users instead of redirecting.
	RaiseAnonymous bool
	// RaiseUnverified answers 403 to users who passed only the password step.
	RaiseUnverified bool
	// LoginURL is where anonymous users go (default Config.LoginURL).
	LoginURL string
	// VerificationURL is where unverified users go (default LoginURL).
	VerificationURL string
	// RedirectFieldName carries the original URL (default "next").
	RedirectFieldName string
	// IfConfigured lets through a user with a fresh password step who has
	// no device yet (the seed's if_configured). Off by default.
	IfConfigured bool
	// Allow, when set, is checked after verification; false answers 403
	// (the admin uses it for active staff).
	Allow func(*User) bool
}

// OTPRequired is Gin middleware that lets only verified users through,
// like the seed's otp_required. htmx requests are sent to the login page
// with HX-Redirect, never a login page swapped into a fragment.
func (s *Service) OTPRequired(o GuardOptions) gin.HandlerFunc {
	if o.LoginURL == "" {
		o.LoginURL = s.cfg.LoginURL
	}
	if o.VerificationURL == "" {
		o.VerificationURL = o.LoginURL
	}
	if o.RedirectFieldName == "" {
		o.RedirectFieldName = "next"
	}
	return func(c *gin.Context) {
		if u := UserFrom(c); u != nil {
			if o.Allow != nil && !o.Allow(u) {
				s.fail(c, http.StatusForbidden, "error_forbidden")
				return
			}
			c.Next()
			return
		}
		sess := ginsessions.Default(c)
		pending, _ := s.pendingUser(c, sess)
		if pending != nil && o.IfConfigured {
			if d, err := s.DefaultDevice(c.Request.Context(), pending.ID); err == nil && d == nil {
				c.Next()
				return
			}
		}
		raise, to := o.RaiseAnonymous, o.LoginURL
		if pending != nil {
			raise, to = o.RaiseUnverified, o.VerificationURL
		}
		if raise {
			s.fail(c, http.StatusForbidden, "error_forbidden")
			return
		}
		c.Abort()
		render.Redirect(c, withNext(to, o.RedirectFieldName, c.Request.URL.RequestURI()))
	}
}

func withNext(to, field, next string) string {
	u, err := url.Parse(to)
	if err != nil {
		return to
	}
	q := u.Query()
	q.Set(field, next)
	u.RawQuery = q.Encode()
	return u.String()
}

// UserVerifiedFunc is called after every verified login: the seed's
// user_verified signal, with the request, the user and the device used.
type UserVerifiedFunc func(r *http.Request, u *User, d Device)

// OnUserVerified adds a hook called after every verified login.
func (s *Service) OnUserVerified(f UserVerifiedFunc) { s.verified = append(s.verified, f) }

func (s *Service) fireVerified(r *http.Request, u *User, d Device) {
	for _, f := range s.verified {
		f(r, u, d)
	}
}
