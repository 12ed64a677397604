package auth

import (
	"crypto/rand"
	"encoding/base64"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/gin-gonic/gin"
)

// Device cookies (OWASP, "Slow down online guessing attacks with device
// cookies").
//
// A browser in which a user completed a login (both factors) gets a signed
// cookie naming that user:
//
//	base64url("d1|<user id>|<expiry unix>|<nonce>|<username>") "." base64url(HMAC-SHA256)
//
// signed like the remember cookie (signCookie, purpose "gatehouse device
// v1"). At the password step a valid device cookie for the username tried
// takes the per-username budget's place with a budget of its own, per
// nonce: whoever guesses a name from many addresses locks out those
// addresses and that name for unknown browsers, never the browsers the
// user signed in with. The cookie proves nothing by itself: the password
// and the second factor are still asked for. A malformed, forged, expired
// or foreign cookie is ignored.

const deviceVersion = "d1"

// deviceClaim is what a device cookie asserts.
type deviceClaim struct {
	UserID   uint
	Username string
	Nonce    string
	Expires  int64 // unix seconds
}

func (cl deviceClaim) payload() string {
	return strings.Join([]string{deviceVersion, strconv.FormatUint(uint64(cl.UserID), 10),
		strconv.FormatInt(cl.Expires, 10), cl.Nonce, cl.Username}, "|")
}

// openDevice returns the claim of a device cookie value, ok false when it
// is malformed or not signed by this site.
func (s *Service) openDevice(v string) (deviceClaim, bool) {
	payload, reason := s.openCookie(purposeDevice, v)
	if reason != "" {
		return deviceClaim{}, false
	}
	// The username comes last: it may hold '|'.
	f := strings.SplitN(payload, "|", 5)
	if len(f) != 5 || f[0] != deviceVersion || f[3] == "" || f[4] == "" {
		return deviceClaim{}, false
	}
	uid, err := strconv.ParseUint(f[1], 10, 32)
	exp, err2 := strconv.ParseInt(f[2], 10, 64)
	if err != nil || err2 != nil || uid == 0 {
		return deviceClaim{}, false
	}
	return deviceClaim{UserID: uint(uid), Expires: exp, Nonce: f[3], Username: f[4]}, true
}

// deviceCookieName is the prefix plus a keyed hash of the lower-cased
// username: one cookie per user and browser, found from the username typed.
func (s *Service) deviceCookieName(username string) string {
	return "gatehouse_device_" + mac(s.keys.cookieMAC, "gatehouse device name", strings.ToLower(username))[:24]
}

// issueDevice sets the device cookie of u in this browser, with a fresh
// nonce, after a completed login.
func (s *Service) issueDevice(c *gin.Context, u *User) {
	age := s.cfg.DeviceCookieAge
	if age <= 0 {
		return
	}
	raw := make([]byte, 16)
	if _, err := rand.Read(raw); err != nil {
		errLog(c, err)
		return
	}
	exp := s.clock.Now().Add(age)
	cl := deviceClaim{UserID: u.ID, Username: u.Username, Nonce: base64.RawURLEncoding.EncodeToString(raw), Expires: exp.Unix()}
	http.SetCookie(c.Writer, &http.Cookie{
		Name: s.deviceCookieName(u.Username), Value: s.signCookie(purposeDevice, cl.payload()), Path: "/",
		MaxAge: int(age / time.Second), Expires: exp.UTC(), Secure: s.secureRequest(c.Request),
		HttpOnly: true, SameSite: http.SameSiteLaxMode,
	})
}

// deviceNonce returns the nonce of this browser's valid device cookie for
// username, "" when it has none: no cookie, a malformed or forged one, an
// expired one, or one of an account that no longer has this name.
func (s *Service) deviceNonce(c *gin.Context, username string) string {
	if s.cfg.DeviceCookieAge <= 0 {
		return ""
	}
	ck, err := c.Request.Cookie(s.deviceCookieName(username))
	if err != nil {
		return ""
	}
	cl, ok := s.openDevice(ck.Value)
	if !ok || !strings.EqualFold(cl.Username, username) || s.clock.Now().Unix() >= cl.Expires {
		return ""
	}
	// Signed by us, for this name: the account must still be the same one.
	if s.userIDByName(c, cl.Username) != cl.UserID {
		return ""
	}
	return cl.Nonce
}
