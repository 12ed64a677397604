package auth

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"time"

	ginsessions "github.com/gin-contrib/sessions"
	"github.com/gin-gonic/gin"
)

// This file is the surface second-factor methods outside this package use.

// Seal encrypts a device secret at rest, bound to context (e.g. "sms/42").
func (s *Service) Seal(plain []byte, context string) []byte { return s.keys.seal(plain, context) }

// Open decrypts what Seal sealed with the same context.
func (s *Service) Open(sealed []byte, context string) ([]byte, error) {
	return s.keys.open(sealed, context)
}

// MAC is a keyed hash (HMAC-SHA256, hex) under a key derived from the site
// secret; methods use it to store one-time codes as hashes.
func (s *Service) MAC(parts ...string) string { return mac(s.keys.backupMAC, parts...) }

// LoginUser returns whom a token step is for: the user of a fresh pending
// login (password step done, second factor not yet), or a verified user
// confirming it is them again (sudo mode); nil otherwise.
func (s *Service) LoginUser(c *gin.Context) *User {
	if u := UserFrom(c); u != nil {
		return u
	}
	u, _ := s.pendingUser(c, ginsessions.Default(c))
	return u
}

// EnrollingUser returns who may enrol a device in this request: a verified
// user, or a fresh pending login in forced enrolment.
func (s *Service) EnrollingUser(c *gin.Context) *User {
	u, _ := s.setupUser(c, ginsessions.Default(c))
	return u
}

// Binding is an opaque id of the current session, for binding ceremony
// state (a WebAuthn challenge) to it. It changes when the session id does.
func (s *Service) Binding(c *gin.Context) string {
	id := ginsessions.Default(c).ID()
	if id == "" {
		return ""
	}
	h := sha256.Sum256([]byte("gatehouse binding\x00" + id))
	return hex.EncodeToString(h[:16])
}

// CompleteLogin verifies the session for u with device d (new session id,
// hooks), for methods that prove both factors at once (passkeys). It
// refuses inactive users.
func (s *Service) CompleteLogin(c *gin.Context, u *User, d Device) bool {
	if !u.IsActive {
		return false
	}
	return s.completeLogin(c, ginsessions.Default(c), u, d)
}

// Budget counts one use of key within a window (sends per hour, per day)
// and refuses once max is reached. The count is shared across instances;
// key may be of any length, and the window's row is pruned after it.
func (s *Service) Budget(ctx context.Context, key string, max int, window time.Duration) error {
	slot := s.clock.Now().UnixNano() / int64(window)
	name := s.throttleKey(scopeBudget, fmt.Sprintf("%s\x00%d", key, slot))
	return s.thr.claim(ctx, claim{key: name, policy: Policy{Cap: max, Keep: window}})
}

const flashKey = "_flash"

// Flash queues a message for the user's next page (after a redirect).
func Flash(c *gin.Context, msg string) {
	s := ginsessions.Default(c)
	s.AddFlash(msg, flashKey)
	_ = s.Save()
}

// flashes takes the queued messages; the page that shows them consumes them.
func flashes(c *gin.Context) []string {
	s := ginsessions.Default(c)
	raw := s.Flashes(flashKey)
	if len(raw) == 0 {
		return nil
	}
	_ = s.Save()
	out := make([]string, 0, len(raw))
	for _, r := range raw {
		if m, ok := r.(string); ok {
			out = append(out, m)
		}
	}
	return out
}
