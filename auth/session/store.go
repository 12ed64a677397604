// Package session keeps sessions server-side for gin-contrib/sessions. The
// cookie carries only a random 256-bit id; the record, keyed by the id's
// SHA-256, lives in the database or Redis, so a store leak yields no live
// cookie and logout truly ends the session. Idle and absolute limits are
// enforced from timestamps in the record, against an injected clock.
package session

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/gob"
	"encoding/hex"
	"net/http"
	"time"

	ginsessions "github.com/gin-contrib/sessions"
	"github.com/gorilla/sessions"

	"github.com/gatehouse/gatehouse/internal/clock"
	"github.com/gatehouse/gatehouse/internal/httpx"
)

// Backend stores session records by key; records expire at expires.
type Backend interface {
	Load(ctx context.Context, key string) ([]byte, bool, error)
	Save(ctx context.Context, key string, data []byte, expires time.Time) error
	Delete(ctx context.Context, key string) error
}

// Keys the store itself keeps in every session.
const (
	rotateKey  = "_rotate"
	createdKey = "_created"
	seenKey    = "_seen"
)

// Rotate gives the session a new id at its next Save and deletes the old
// record, so an id seen before login is worthless after it.
func Rotate(s ginsessions.Session) { s.Set(rotateKey, true) }

// Destroy deletes the session record and the cookie at the next Save.
func Destroy(s ginsessions.Session) {
	s.Clear()
	s.Options(ginsessions.Options{Path: "/", MaxAge: -1})
}

// HostPrefix starts the session cookie's name whenever the cookie is
// Secure and host-only (no Domain, Path "/"). Browsers accept such a
// cookie only from this host over https, so neither a sibling subdomain
// nor a plain-http page can plant or overwrite it (session fixation).
// The name then differs per scheme; reading and writing use one rule.
const HostPrefix = "__Host-"

// Config sets the store's limits.
type Config struct {
	Idle     time.Duration // end after this long without a request
	Absolute time.Duration // end this long after creation, whatever happens
	Clock    clock.Clock
	// Secure decides the cookie's Secure flag per request.
	Secure func(r *http.Request) bool
}

// Store implements gin-contrib/sessions' Store.
type Store struct {
	backend Backend
	cfg     Config
	opts    sessions.Options
}

// NewStore returns a Store over backend.
func NewStore(b Backend, cfg Config) *Store {
	return &Store{backend: b, cfg: cfg, opts: sessions.Options{Path: "/", HttpOnly: true, SameSite: http.SameSiteLaxMode}}
}

// Options sets the cookie options; HttpOnly and SameSite=Lax always stay.
func (s *Store) Options(o ginsessions.Options) {
	s.opts = *o.ToGorillaOptions()
	s.opts.HttpOnly = true
	if s.opts.SameSite == http.SameSiteDefaultMode || s.opts.SameSite == http.SameSiteNoneMode {
		s.opts.SameSite = http.SameSiteLaxMode
	}
}

// Get returns the request's session (cached per request).
func (s *Store) Get(r *http.Request, name string) (*sessions.Session, error) {
	return sessions.GetRegistry(r).Get(s, name)
}

// New loads the session named by the cookie, or starts an empty one when
// there is none, it is unknown, or it has timed out.
func (s *Store) New(r *http.Request, name string) (*sessions.Session, error) {
	sess := sessions.NewSession(s, name)
	opts := s.opts
	sess.Options = &opts
	sess.IsNew = true
	c, err := r.Cookie(s.cookieName(r, name))
	if err != nil || !validID(c.Value) {
		return sess, nil
	}
	key := hashID(c.Value)
	data, ok, err := s.backend.Load(r.Context(), key)
	if err != nil {
		// Fail closed: an unreadable store means no session.
		httpx.Logger(r.Context()).Error("session: load", "err", err)
		return sess, nil
	}
	if !ok {
		return sess, nil
	}
	vals := map[any]any{}
	if err := gob.NewDecoder(bytes.NewReader(data)).Decode(&vals); err != nil {
		httpx.Logger(r.Context()).Warn("session: undecodable record dropped", "err", err)
		_ = s.backend.Delete(r.Context(), key)
		return sess, nil
	}
	now := s.cfg.Clock.Now().Unix()
	created, _ := vals[createdKey].(int64)
	seen, _ := vals[seenKey].(int64)
	if now-created >= int64(s.cfg.Absolute.Seconds()) || now-seen >= int64(s.cfg.Idle.Seconds()) {
		_ = s.backend.Delete(r.Context(), key)
		return sess, nil
	}
	sess.ID, sess.Values, sess.IsNew = c.Value, vals, false
	return sess, nil
}

// Touch records activity; the caller saves. Writes at most once a minute.
func Touch(s ginsessions.Session, now time.Time) bool {
	seen, _ := s.Get(seenKey).(int64)
	if now.Unix()-seen < 60 {
		return false
	}
	s.Set(seenKey, now.Unix())
	return true
}

// Save writes the record and the cookie, or deletes both when MaxAge < 0.
func (s *Store) Save(r *http.Request, w http.ResponseWriter, sess *sessions.Session) error {
	ctx := r.Context()
	secure := s.secure(r)
	name := s.cookieName(r, sess.Name())
	if sess.Options.MaxAge < 0 {
		if sess.ID != "" {
			if err := s.backend.Delete(ctx, hashID(sess.ID)); err != nil {
				return err
			}
		}
		// The store's options, so the deleting cookie has the same name,
		// path and domain as the one it deletes.
		o := s.opts
		o.MaxAge = -1
		o.Secure = secure
		http.SetCookie(w, sessions.NewCookie(name, "", &o))
		sess.ID = ""
		return nil
	}
	now := s.cfg.Clock.Now()
	if _, ok := sess.Values[rotateKey]; ok {
		delete(sess.Values, rotateKey)
		delete(sess.Values, createdKey) // the new id starts a new absolute limit
		if sess.ID != "" {
			if err := s.backend.Delete(ctx, hashID(sess.ID)); err != nil {
				return err
			}
		}
		sess.ID = ""
	}
	if sess.ID == "" {
		sess.ID = newID()
		if _, ok := sess.Values[createdKey]; !ok {
			sess.Values[createdKey] = now.Unix()
		}
	}
	if _, ok := sess.Values[seenKey]; !ok {
		sess.Values[seenKey] = now.Unix()
	}
	var buf bytes.Buffer
	if err := gob.NewEncoder(&buf).Encode(sess.Values); err != nil {
		return err
	}
	created, _ := sess.Values[createdKey].(int64)
	expires := time.Unix(created, 0).Add(s.cfg.Absolute)
	if err := s.backend.Save(ctx, hashID(sess.ID), buf.Bytes(), expires); err != nil {
		return err
	}
	o := *sess.Options
	o.Secure = secure
	o.MaxAge = 0 // a browser-session cookie; the server decides when it ends
	http.SetCookie(w, sessions.NewCookie(name, sess.ID, &o))
	return nil
}

func (s *Store) secure(r *http.Request) bool { return s.cfg.Secure != nil && s.cfg.Secure(r) }

// cookieName is the cookie's name for r: HostPrefix+name when the cookie
// is Secure and host-only, name otherwise.
func (s *Store) cookieName(r *http.Request, name string) string {
	if s.secure(r) && s.opts.Domain == "" && s.opts.Path == "/" {
		return HostPrefix + name
	}
	return name
}

func newID() string {
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		panic(err)
	}
	return base64.RawURLEncoding.EncodeToString(b)
}

func validID(s string) bool {
	if len(s) != 43 {
		return false
	}
	_, err := base64.RawURLEncoding.DecodeString(s)
	return err == nil
}

func hashID(id string) string {
	h := sha256.Sum256([]byte(id))
	return hex.EncodeToString(h[:])
}
