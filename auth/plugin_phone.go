package auth

import (
	"github.com/gin-gonic/gin"

	"github.com/gatehouse/gatehouse/internal/locale"
)

// This file holds generic extension points the phone methods (auth/phone)
// needed and any other method may use.

// Alternate is a Device of a primary method that is only an alternative at
// login, never preferred as the user's default device: a backup phone.
// Service.Devices lists such devices after the other devices of primary
// methods, so DefaultDevice picks one only when the user has nothing else.
type Alternate interface {
	Alternate() bool
}

func isAlternate(d Device) bool {
	a, ok := d.(Alternate)
	return ok && a.Alternate()
}

// ProfileSectionFunc returns the data of one block of the account security
// page for u. An error answers 500 (fail closed).
type ProfileSectionFunc func(c *gin.Context, u *User) (any, error)

// AddProfileSection adds a block to the account security page: f's
// result is .D.Sections.<name> in templates/account/profile.html (the
// phone method lists backup phones under "phone"). Call it before serving.
func (s *Service) AddProfileSection(name string, f ProfileSectionFunc) {
	if s.sections == nil {
		s.sections = map[string]ProfileSectionFunc{}
	}
	s.sections[name] = f
}

// profileSections runs every profile section for u.
func (s *Service) profileSections(c *gin.Context, u *User) (map[string]any, error) {
	out := make(map[string]any, len(s.sections))
	for name, f := range s.sections {
		v, err := f(c, u)
		if err != nil {
			return nil, err
		}
		out[name] = v
	}
	return out, nil
}

// VerifyMessage is the user's message for an error of Service.Verify (a
// wrong or throttled token, a device's own *UserError); false for other
// errors, which are internal.
func VerifyMessage(l *locale.Lang, err error) (string, bool) { return verifyMessage(l, err) }

// RecordVerifyFailure records a refused Service.Verify of u with d as a
// security event, as the wizards do: a wrong token or a throttled attempt.
func (s *Service) RecordVerifyFailure(c *gin.Context, u *User, d Device, err error) {
	s.recordVerifyFailure(c, u, d, err)
}
