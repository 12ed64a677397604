package auth

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
	"time"

	"gorm.io/gorm"
)

// ErrUserExists is returned when a username is taken.
var ErrUserExists = errors.New("username already taken")

// NewUser describes a user to create.
type NewUser struct {
	Username, Email, Password string
	Staff, Superuser          bool
}

// CreateUser validates and stores a user with an argon2id password.
// A superuser is always staff.
func (s *Service) CreateUser(ctx context.Context, n NewUser) (*User, error) {
	n.Username = strings.TrimSpace(n.Username)
	if n.Username == "" || len(n.Username) > 150 || strings.ContainsAny(n.Username, " \t\r\n") {
		return nil, errors.New("username: 1 to 150 characters, no spaces")
	}
	if p := PasswordProblem(n.Password, n.Username); p != "" {
		return nil, fmt.Errorf("password: %s", s.catalog.Lang("en").T(p))
	}
	hash, err := s.hasher.Hash(ctx, n.Password)
	if err != nil {
		return nil, err
	}
	u := &User{Username: n.Username, Email: strings.TrimSpace(n.Email), Password: hash, IsActive: true,
		IsStaff: n.Staff || n.Superuser, IsSuperuser: n.Superuser, Epoch: 1, DeviceEpoch: 1, DateJoined: s.clock.Now()}
	if err := s.db.WithContext(ctx).Create(u).Error; err != nil {
		if errors.Is(err, gorm.ErrDuplicatedKey) {
			return nil, fmt.Errorf("%w: %s", ErrUserExists, n.Username)
		}
		return nil, err
	}
	return u, nil
}

// UserByName returns the user with that exact username.
func (s *Service) UserByName(ctx context.Context, username string) (*User, error) {
	var u User
	err := s.db.WithContext(ctx).Where("username = ?", username).Take(&u).Error
	if errors.Is(err, gorm.ErrRecordNotFound) {
		return nil, fmt.Errorf("%w: %q", errNoUser, username)
	}
	return &u, err
}

// UserByID returns the user with that id.
func (s *Service) UserByID(ctx context.Context, id uint) (*User, error) {
	var u User
	err := s.db.WithContext(ctx).Where("id = ?", id).Take(&u).Error
	if errors.Is(err, gorm.ErrRecordNotFound) {
		return nil, fmt.Errorf("%w: id %d", errNoUser, id)
	}
	return &u, err
}

// IsNoUser reports whether err means the user does not exist.
func IsNoUser(err error) bool { return errors.Is(err, errNoUser) }

// SetPassword changes the password and moves the credential epoch, which
// ends the user's other sessions and remembered browsers, and clears the
// user's throttles.
func (s *Service) SetPassword(ctx context.Context, u *User, password string) error {
	if p := PasswordProblem(password, u.Username); p != "" {
		return errors.New(s.catalog.Lang("en").T(p))
	}
	hash, err := s.hasher.Hash(ctx, password)
	if err != nil {
		return err
	}
	res := s.db.WithContext(ctx).Model(&User{}).Where("id = ?", u.ID).
		Updates(map[string]any{"password": hash, "epoch": gorm.Expr("epoch + 1")})
	if res.Error != nil {
		return res.Error
	}
	u.Password = hash
	u.Epoch++
	return s.resetThrottles(ctx, u)
}

func (s *Service) resetThrottles(ctx context.Context, u *User) error {
	return errors.Join(s.thr.reset(ctx, s.accountKey(u.ID)), s.thr.reset(ctx, s.loginUserKey(u.Username)))
}

// TwoFactorEnabled reports whether the user has a confirmed primary device.
func (s *Service) TwoFactorEnabled(ctx context.Context, u *User) (bool, error) {
	d, err := s.DefaultDevice(ctx, u.ID)
	return d != nil, err
}

// DisableTwoFactor removes every device of the user and moves the
// credential epoch, so current sessions end and the next login enrols again.
func (s *Service) DisableTwoFactor(ctx context.Context, u *User) error {
	err := s.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		for _, m := range s.methods.methods {
			if err := m.DeleteAll(ctx, tx, u.ID); err != nil {
				return err
			}
		}
		return tx.Model(&User{}).Where("id = ?", u.ID).
			Updates(map[string]any{"epoch": gorm.Expr("epoch + 1"), "device_epoch": gorm.Expr("device_epoch + 1")}).Error
	})
	if err != nil {
		return err
	}
	u.Epoch++
	s.RecordContext(ctx, Event{Kind: EventDeviceRemoved, UserID: u.ID, Detail: "all devices"})
	return s.resetThrottles(ctx, u)
}

// DevicesChanged records that the user's devices changed (one was
// confirmed, added or removed): it moves the device epoch, which ends the
// user's other pending logins and enrolments. Call it in the transaction
// that makes the change, with tx; a nil tx uses the service's database.
func (s *Service) DevicesChanged(ctx context.Context, tx *gorm.DB, userID uint) error {
	if tx == nil {
		tx = s.db
	}
	return tx.WithContext(ctx).Model(&User{}).Where("id = ?", userID).
		Update("device_epoch", gorm.Expr("device_epoch + 1")).Error
}

// errStaleEnrolment means a forced enrolment lost to a device change made
// since its password step (the user, or another session, enrolled first).
var errStaleEnrolment = errors.New("enrolment refused: the user's devices changed since the password step")

// confirmDevice confirms a pending device and moves the device epoch in one
// transaction. A forced enrolment (devs > 0, the epoch its password step
// saw) commits only while that epoch is current: of two sessions that
// passed the password step while the user had no device, one enrols, and
// the other is refused, on every dialect and across instances.
func (s *Service) confirmDevice(ctx context.Context, e Enroller, u *User, id uint, devs int64) error {
	return s.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		q := tx.Model(&User{}).Where("id = ?", u.ID)
		if devs > 0 {
			q = q.Where("device_epoch = ?", devs)
		}
		res := q.Update("device_epoch", gorm.Expr("device_epoch + 1"))
		if res.Error != nil {
			return res.Error
		}
		if res.RowsAffected != 1 {
			return errStaleEnrolment
		}
		return e.Confirm(ctx, tx, u, id)
	})
}

// HasSuperuser reports whether any active superuser exists.
func (s *Service) HasSuperuser(ctx context.Context) (bool, error) {
	var n int64
	err := s.db.WithContext(ctx).Model(&User{}).Where("is_superuser = ? AND is_active = ?", true, true).Count(&n).Error
	return n > 0, err
}

// BootstrapLink makes a one-time path (valid one hour, stored hashed) for
// creating the first superuser in the browser.
func (s *Service) BootstrapLink(ctx context.Context) (string, error) {
	tok := randomCode(backupAlphabet, 32)
	row := bootstrapToken{Hash: sha256Hex(tok), ExpiresAt: s.clock.Now().Add(time.Hour)}
	if err := s.db.WithContext(ctx).Create(&row).Error; err != nil {
		return "", err
	}
	return "/account/first-superuser/?token=" + tok, nil
}

func sha256Hex(s string) string {
	h := sha256.Sum256([]byte(s))
	return hex.EncodeToString(h[:])
}
