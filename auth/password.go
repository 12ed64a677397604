package auth

import (
	"context"
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"fmt"
	"runtime"
	"strings"
	"unicode/utf8"

	"golang.org/x/crypto/argon2"
)

// Argon2Params are the argon2id cost settings (OWASP's: 19 MiB, 2 passes, 1 lane).
type Argon2Params struct {
	Memory  uint32 // KiB
	Time    uint32
	Threads uint8
}

// DefaultArgon2 is OWASP's recommended minimum for argon2id.
var DefaultArgon2 = Argon2Params{Memory: 19 * 1024, Time: 2, Threads: 1}

// Hasher hashes and checks passwords with argon2id. At most Slots hashes
// run at once, so a login flood queues instead of exhausting memory.
type Hasher struct {
	Params Argon2Params
	slots  chan struct{}
}

// NewHasher returns a Hasher that runs at most slots hashes at once
// (0: one per CPU).
func NewHasher(p Argon2Params, slots int) *Hasher {
	if slots <= 0 {
		slots = runtime.NumCPU()
	}
	return &Hasher{Params: p, slots: make(chan struct{}, slots)}
}

// ErrPasswordMismatch means the password was wrong.
var ErrPasswordMismatch = errors.New("password mismatch")

// unusable marks an account with no password: nothing matches it.
const unusable = "!"

// Hash returns the PHC string of password.
func (h *Hasher) Hash(ctx context.Context, password string) (string, error) {
	salt := make([]byte, 16)
	if _, err := rand.Read(salt); err != nil {
		return "", err
	}
	key, err := h.derive(ctx, password, salt, h.Params)
	if err != nil {
		return "", err
	}
	b64 := base64.RawStdEncoding
	return fmt.Sprintf("$argon2id$v=%d$m=%d,t=%d,p=%d$%s$%s", argon2.Version,
		h.Params.Memory, h.Params.Time, h.Params.Threads, b64.EncodeToString(salt), b64.EncodeToString(key)), nil
}

// Check reports whether password matches encoded. A malformed or unusable
// hash still costs one hash, so timing does not tell which it was.
func (h *Hasher) Check(ctx context.Context, password, encoded string) error {
	p, salt, want, err := parsePHC(encoded)
	if err != nil {
		p, salt, want = h.Params, make([]byte, 16), make([]byte, 32)
	}
	got, derr := h.derive(ctx, password, salt, p)
	if derr != nil {
		return derr
	}
	if err != nil || subtle.ConstantTimeCompare(got, want) != 1 {
		return ErrPasswordMismatch
	}
	return nil
}

func (h *Hasher) derive(ctx context.Context, password string, salt []byte, p Argon2Params) ([]byte, error) {
	select {
	case h.slots <- struct{}{}:
	case <-ctx.Done():
		return nil, ctx.Err()
	}
	defer func() { <-h.slots }()
	return argon2.IDKey([]byte(password), salt, p.Time, p.Memory, p.Threads, 32), nil
}

func parsePHC(s string) (p Argon2Params, salt, key []byte, err error) {
	parts := strings.Split(s, "$")
	if len(parts) != 6 || parts[1] != "argon2id" || parts[2] != fmt.Sprintf("v=%d", argon2.Version) {
		return p, nil, nil, errors.New("not an argon2id hash")
	}
	if _, err = fmt.Sscanf(parts[3], "m=%d,t=%d,p=%d", &p.Memory, &p.Time, &p.Threads); err != nil {
		return p, nil, nil, err
	}
	if p.Memory > 1<<20 || p.Time > 16 || p.Threads == 0 || p.Time == 0 {
		return p, nil, nil, errors.New("argon2id parameters out of range")
	}
	b64 := base64.RawStdEncoding
	if salt, err = b64.DecodeString(parts[4]); err != nil {
		return p, nil, nil, err
	}
	if key, err = b64.DecodeString(parts[5]); err != nil || len(key) != 32 {
		return p, nil, nil, errors.New("bad argon2id key")
	}
	return p, salt, key, nil
}

// PasswordProblem returns the message id of what is wrong with a new
// password, or "" when it is acceptable (ASVS 2.1: 12 to 128 characters,
// not all digits, not the username).
func PasswordProblem(password, username string) string {
	n := utf8.RuneCountInString(password)
	switch {
	case n < 12:
		return "password_too_short"
	case n > 128:
		return "password_too_long"
	case strings.Trim(password, "0123456789") == "":
		return "password_all_digits"
	case strings.EqualFold(password, username):
		return "password_is_username"
	}
	return ""
}
