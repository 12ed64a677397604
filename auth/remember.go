package auth

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	ginsessions "github.com/gin-contrib/sessions"
	"github.com/gin-gonic/gin"

	"github.com/gatehouse/gatehouse/internal/httpx"
	"github.com/gatehouse/gatehouse/internal/locale"
	"github.com/gatehouse/gatehouse/internal/render"
)

// Remember this browser (the seed's remember cookie).
//
// A verified token step with "token-remember" ticked sets a cookie whose
// value is
//
//	base64url("1|<user id>|<credential epoch>|<device key>|<expiry unix>") "." base64url(HMAC-SHA256)
//
// under a key derived from the site secret for this purpose only
// (keyring.cookieMAC). Its name is the configured prefix plus a keyed hash
// of the user id: one cookie per user and browser, and no username in it.
// After a later password step of the same user the cookie stands in for
// the token step while it verifies, has not expired, the credential epoch
// is unchanged (password change, devices removed), its device is still a
// confirmed primary device of the user, and neither that device nor the
// account is throttled. Rotating the site secret invalidates every cookie.
// A cookie that fails any check is deleted, recorded as
// EventRememberRefused and counts as one failed attempt on the device and
// the account, like a wrong token.

const (
	rememberVersion = "1"
	rememberMaxLen  = 1024 // longer values are refused unread
	rememberMACLen  = sha256.Size
)

// Reasons a remember cookie is refused; they go into the event's Detail.
const (
	rememberMalformed = "malformed"
	rememberBadMAC    = "bad signature"
	rememberOtherUser = "other user"
	rememberExpired   = "expired"
	rememberEpoch     = "credentials changed"
	rememberNoDevice  = "device removed"
)

// rememberClaim is what a remember cookie asserts.
type rememberClaim struct {
	UserID  uint
	Epoch   int64
	Device  string // device key, e.g. "generator/3"
	Expires int64  // unix seconds
}

func (cl rememberClaim) payload() string {
	return strings.Join([]string{rememberVersion, strconv.FormatUint(uint64(cl.UserID), 10),
		strconv.FormatInt(cl.Epoch, 10), cl.Device, strconv.FormatInt(cl.Expires, 10)}, "|")
}

// Signed cookies (remember and device cookies) share one form:
// base64url(payload) "." base64url(HMAC-SHA256), under keyring.cookieMAC
// with a purpose label in the MAC, so one kind of cookie never passes for
// another.
const (
	purposeRemember = "gatehouse remember v1"
	purposeDevice   = "gatehouse device v1"
)

func (s *Service) cookieMAC(purpose string, payload []byte) []byte {
	m := hmac.New(sha256.New, s.keys.cookieMAC)
	m.Write([]byte(purpose))
	m.Write([]byte{0})
	m.Write(payload)
	return m.Sum(nil)
}

// signCookie makes a signed cookie value of payload for purpose.
func (s *Service) signCookie(purpose, payload string) string {
	p := []byte(payload)
	return base64.RawURLEncoding.EncodeToString(p) + "." + base64.RawURLEncoding.EncodeToString(s.cookieMAC(purpose, p))
}

// openCookie checks a signed cookie value's form and signature
// (constant-time) and returns its payload, or why it is refused
// (rememberMalformed, rememberBadMAC). It never panics, whatever the input.
func (s *Service) openCookie(purpose, v string) (string, string) {
	if len(v) == 0 || len(v) > rememberMaxLen {
		return "", rememberMalformed
	}
	p64, m64, ok := strings.Cut(v, ".")
	if !ok || strings.Contains(m64, ".") {
		return "", rememberMalformed
	}
	enc := base64.RawURLEncoding.Strict()
	payload, err1 := enc.DecodeString(p64)
	sum, err2 := enc.DecodeString(m64)
	if err1 != nil || err2 != nil || len(sum) != rememberMACLen || len(payload) == 0 {
		return "", rememberMalformed
	}
	if !hmac.Equal(sum, s.cookieMAC(purpose, payload)) {
		return "", rememberBadMAC
	}
	return string(payload), ""
}

// signRemember makes a cookie value for cl.
func (s *Service) signRemember(cl rememberClaim) string {
	return s.signCookie(purposeRemember, cl.payload())
}

// openRemember checks a cookie value's form and signature and returns its
// claim.
func (s *Service) openRemember(v string) (rememberClaim, string) {
	var cl rememberClaim
	payload, reason := s.openCookie(purposeRemember, v)
	if reason != "" {
		return cl, reason
	}
	// Signed by us: the fields are ours, but parse them strictly anyway.
	f := strings.Split(payload, "|")
	if len(f) != 5 || f[0] != rememberVersion {
		return cl, rememberMalformed
	}
	uid, err := strconv.ParseUint(f[1], 10, 32)
	epoch, err3 := strconv.ParseInt(f[2], 10, 64)
	exp, err4 := strconv.ParseInt(f[4], 10, 64)
	if _, _, keyOK := splitKey(f[3]); err != nil || err3 != nil || err4 != nil || !keyOK || uid == 0 {
		return cl, rememberMalformed
	}
	return rememberClaim{UserID: uint(uid), Epoch: epoch, Device: f[3], Expires: exp}, ""
}

// rememberCookieName is the prefix plus a keyed hash of the user id.
func (s *Service) rememberCookieName(uid uint) string {
	return s.cfg.RememberCookiePrefix + mac(s.keys.cookieMAC, "gatehouse remember name", strconv.FormatUint(uint64(uid), 10))[:24]
}

// RememberCookieName is the name of u's remember cookie in this site.
func (s *Service) RememberCookieName(u *User) string { return s.rememberCookieName(u.ID) }

func (s *Service) rememberCookie(c *gin.Context, uid uint, value string, maxAge int) *http.Cookie {
	ck := &http.Cookie{
		Name: s.rememberCookieName(uid), Value: value, Path: s.cfg.RememberCookiePath, Domain: s.cfg.RememberCookieDomain,
		MaxAge: maxAge, Secure: s.cfg.RememberCookieSecure || s.secureRequest(c.Request),
		HttpOnly: !s.cfg.RememberCookieScriptAccess, SameSite: s.cfg.RememberCookieSameSite,
	}
	if maxAge > 0 {
		ck.Expires = s.clock.Now().Add(time.Duration(maxAge) * time.Second).UTC()
	}
	return ck
}

// issueRemember sets the remember cookie for u and device d.
func (s *Service) issueRemember(c *gin.Context, u *User, d Device) {
	age := s.cfg.RememberCookieAge
	cl := rememberClaim{UserID: u.ID, Epoch: u.Epoch, Device: d.Key(), Expires: s.clock.Now().Add(age).Unix()}
	http.SetCookie(c.Writer, s.rememberCookie(c, u.ID, s.signRemember(cl), int(age/time.Second)))
	s.Record(c, Event{Kind: EventRememberIssued, UserID: u.ID, Device: d.Key(),
		Detail: fmt.Sprintf("until %s", time.Unix(cl.Expires, 0).UTC().Format(time.RFC3339))})
}

// forgetRemember deletes u's remember cookie in this browser.
func (s *Service) forgetRemember(c *gin.Context, uid uint) {
	http.SetCookie(c.Writer, s.rememberCookie(c, uid, "", -1))
}

// loginRemembered runs after a successful password step of u, whose
// default device is dev. With a valid remember cookie it completes the
// login and reports true; with none or a refused one it reports false and
// the token step follows. It also reports true when it answered an error.
func (s *Service) loginRemembered(c *gin.Context, sess ginsessions.Session, u *User, dev Device) bool {
	if s.cfg.RememberCookieAge <= 0 {
		return false
	}
	ck, err := c.Request.Cookie(s.rememberCookieName(u.ID))
	if err != nil {
		return false
	}
	ctx := c.Request.Context()
	cl, reason := s.openRemember(ck.Value)
	// The attempt is charged to the cookie's device when it is the user's,
	// otherwise to the device the token step asks for.
	charge := dev
	var named Device
	if reason == "" && cl.UserID == u.ID {
		if named, err = s.deviceByKey(ctx, u.ID, cl.Device); err != nil {
			s.internalError(c, err)
			return true
		}
		if named != nil && s.methods.byCode[named.MethodCode()].Primary() {
			charge = named
		} else {
			named = nil
		}
	}
	claims := s.verifyClaims(u, charge)
	if err := s.thr.begin(ctx, claims...); err != nil {
		var te *ThrottledError
		if !errors.As(err, &te) {
			s.internalError(c, err)
			return true
		}
		// Throttled: even a valid cookie is ignored (and kept); a bad one goes.
		s.Record(c, Event{Kind: EventThrottled, UserID: u.ID, Device: charge.Key(), Detail: throttleDetail(te) + "; remember cookie ignored"})
		if reason == "" && cl.UserID != u.ID {
			reason = rememberOtherUser
		}
		if reason != "" {
			s.forgetRemember(c, u.ID)
			s.Record(c, Event{Kind: EventRememberRefused, UserID: u.ID, Device: charge.Key(), Detail: reason + "; throttled"})
		}
		return false
	}
	now := s.clock.Now().Unix()
	switch {
	case reason != "":
	case cl.UserID != u.ID:
		reason = rememberOtherUser
	case now >= cl.Expires:
		reason = rememberExpired
	case cl.Epoch != u.Epoch:
		reason = rememberEpoch
	case named == nil:
		reason = rememberNoDevice
	}
	if reason != "" {
		// The claimed attempt stays counted: a bad cookie is a failed attempt.
		s.forgetRemember(c, u.ID)
		s.Record(c, Event{Kind: EventRememberRefused, UserID: u.ID, Device: charge.Key(), Detail: reason})
		return false
	}
	if err := s.thr.succeed(ctx, claims...); err != nil {
		s.internalError(c, err)
		return true
	}
	next, _ := sess.Get(kLoginNext).(string)
	if s.completeLoginAs(c, sess, u, named, EventLoginRemembered) {
		render.Redirect(c, httpx.RedirectOr(next, s.cfg.LoginRedirectURL))
	}
	return true
}

// dropRemember deletes a remember cookie of a user who has no device left.
func (s *Service) dropRemember(c *gin.Context, u *User) {
	if _, err := c.Request.Cookie(s.rememberCookieName(u.ID)); err != nil {
		return
	}
	s.forgetRemember(c, u.ID)
	s.Record(c, Event{Kind: EventRememberRefused, UserID: u.ID, Detail: rememberNoDevice})
}

// rememberLabel is the checkbox text, in the largest unit that divides
// the age exactly: "Don't ask again on this device for 30 days".
func rememberLabel(l *locale.Lang, age time.Duration) string {
	secs := int(age / time.Second)
	switch {
	case secs%86400 == 0:
		return l.T("remember_days", "Count", secs/86400)
	case secs%3600 == 0:
		return l.T("remember_hours", "Count", secs/3600)
	case secs%60 == 0:
		return l.T("remember_minutes", "Count", secs/60)
	}
	return l.T("remember_seconds", "Count", secs)
}

// validateRemember checks the remember-cookie settings, named as in the environment.
func (c Config) validateRemember() []error {
	var errs []error
	if c.RememberCookieAge > 0 && (c.RememberCookieAge < time.Second || c.RememberCookieAge%time.Second != 0) {
		errs = append(errs, errors.New("GATEHOUSE_REMEMBER_COOKIE_AGE: must be a whole number of seconds"))
	}
	if c.RememberCookiePrefix != "" && !cookieToken(c.RememberCookiePrefix) {
		errs = append(errs, fmt.Errorf("GATEHOUSE_REMEMBER_COOKIE_PREFIX: %q may hold only letters, digits and !#$%%&'*+-.^_`|~", c.RememberCookiePrefix))
	}
	if len(c.RememberCookiePrefix) > 64 {
		errs = append(errs, errors.New("GATEHOUSE_REMEMBER_COOKIE_PREFIX: at most 64 characters"))
	}
	if p := c.RememberCookiePath; p != "" && (!strings.HasPrefix(p, "/") || !cookieAttr(p)) {
		errs = append(errs, fmt.Errorf("GATEHOUSE_REMEMBER_COOKIE_PATH: %q must start with / and hold no ';' or control characters", p))
	}
	if d := c.RememberCookieDomain; d != "" && (!cookieAttr(d) || strings.ContainsAny(d, " /:")) {
		errs = append(errs, fmt.Errorf("GATEHOUSE_REMEMBER_COOKIE_DOMAIN: %q is not a domain name", d))
	}
	switch c.RememberCookieSameSite {
	case 0, http.SameSiteDefaultMode, http.SameSiteLaxMode, http.SameSiteStrictMode:
	case http.SameSiteNoneMode:
		if !c.RememberCookieSecure && !c.CookieSecure {
			errs = append(errs, errors.New("GATEHOUSE_REMEMBER_COOKIE_SAMESITE: None needs GATEHOUSE_REMEMBER_COOKIE_SECURE=true (browsers drop insecure SameSite=None cookies)"))
		}
	default:
		errs = append(errs, errors.New("GATEHOUSE_REMEMBER_COOKIE_SAMESITE: must be Lax, Strict or None"))
	}
	return errs
}

// cookieToken reports whether s is a valid cookie-name token (RFC 6265).
func cookieToken(s string) bool {
	for i := 0; i < len(s); i++ {
		b := s[i]
		ok := b >= '0' && b <= '9' || b >= 'a' && b <= 'z' || b >= 'A' && b <= 'Z' || strings.IndexByte("!#$%&'*+-.^_`|~", b) >= 0
		if !ok {
			return false
		}
	}
	return true
}

// cookieAttr reports whether s can be a cookie attribute value.
func cookieAttr(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < 0x21 || s[i] >= 0x7f || s[i] == ';' {
			return false
		}
	}
	return true
}
