package auth

import (
	"context"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/gin-gonic/gin"
	"gorm.io/gorm"

	"github.com/gatehouse/gatehouse/internal/locale"
)

// Method is one kind of second factor, as in the seed's plugin registry:
// a code, a name, how to find a user's devices and how to remove them.
// Phone, email, YubiKey and WebAuthn plug in through Service.Register
// without touching the login wizard.
type Method interface {
	// Code is the stable name: "generator", "backup", "sms", ...
	Code() string
	// Name is the method's name in the setup method choice.
	Name(l *locale.Lang) string
	// Primary methods can be a user's default device; backup codes cannot.
	Primary() bool
	// Models are the tables the method needs migrated.
	Models() []any
	// Devices lists the user's confirmed devices of this method.
	Devices(ctx context.Context, userID uint) ([]Device, error)
	// DeleteAll removes every device of the user, confirmed or not.
	DeleteAll(ctx context.Context, tx *gorm.DB, userID uint) error
}

// Enroller is a Method the setup wizard can enrol.
type Enroller interface {
	Method
	// SetupStep names the wizard step, e.g. "generator"; its template is
	// the partial "setup-<step>".
	SetupStep() string
	// BeginSetup creates an unconfirmed device and returns its id.
	BeginSetup(ctx context.Context, u *User) (uint, error)
	// SetupView returns the step's template data for the pending device.
	SetupView(ctx context.Context, u *User, deviceID uint) (any, error)
	// PendingDevice returns the unconfirmed device being set up.
	PendingDevice(ctx context.Context, u *User, deviceID uint) (Device, error)
	// TokenField is the form field of the confirming token.
	TokenField() string
	// Confirm marks the device confirmed after its token verified. It
	// writes through tx, the transaction that also moves the user's device
	// epoch, so a refused enrolment confirms nothing.
	Confirm(ctx context.Context, tx *gorm.DB, u *User, deviceID uint) error
}

// Device is one registered second factor of a user.
type Device interface {
	// Key is "<method>/<id>", unique across methods.
	Key() string
	// MethodCode names the Method.
	MethodCode() string
	// Label describes the device for its owner ("Authenticator app").
	Label(l *locale.Lang) string
	// ActionText is the text of the button that picks this device at login.
	ActionText(l *locale.Lang) string
	// VerifyToken checks token once and atomically: a token that verified
	// never verifies again, under any concurrency and across instances.
	// Throttling is the Service's job, not the device's.
	VerifyToken(ctx context.Context, token string) (bool, error)
	// ThrottleFactor is the device's back-off factor.
	ThrottleFactor() time.Duration
}

// registry keeps methods in registration order.
type registry struct {
	methods []Method
	byCode  map[string]Method
}

func (r *registry) add(m Method) {
	if r.byCode == nil {
		r.byCode = map[string]Method{}
	}
	if _, dup := r.byCode[m.Code()]; dup {
		panic("auth: method registered twice: " + m.Code())
	}
	r.methods = append(r.methods, m)
	r.byCode[m.Code()] = m
}

func (r *registry) enrollers() []Enroller {
	var out []Enroller
	for _, m := range r.methods {
		if e, ok := m.(Enroller); ok && m.Primary() {
			out = append(out, e)
		}
	}
	return out
}

// splitKey parses "<method>/<id>" strictly.
func splitKey(key string) (code string, id uint, ok bool) {
	code, rest, found := strings.Cut(key, "/")
	if !found || code == "" {
		return "", 0, false
	}
	n, err := strconv.ParseUint(rest, 10, 32)
	if err != nil || n == 0 || strconv.FormatUint(n, 10) != rest {
		return "", 0, false
	}
	return code, uint(n), true
}

// Register adds a second-factor method. Call it before Migrate and before
// serving.
func (s *Service) Register(m Method) { s.methods.add(m) }

// Devices lists all confirmed devices of the user, primary methods first
// in registration order, Alternate devices (backup phones) after the other
// devices of primary methods.
func (s *Service) Devices(ctx context.Context, userID uint) ([]Device, error) {
	var all []Device
	for _, m := range s.methods.methods {
		ds, err := m.Devices(ctx, userID)
		if err != nil {
			return nil, err
		}
		all = append(all, ds...)
	}
	rank := func(d Device) int {
		switch {
		case !s.methods.byCode[d.MethodCode()].Primary():
			return 2
		case isAlternate(d):
			return 1
		}
		return 0
	}
	sort.SliceStable(all, func(i, j int) bool { return rank(all[i]) < rank(all[j]) })
	return all, nil
}

// DefaultDevice is the user's first confirmed primary device, or nil.
func (s *Service) DefaultDevice(ctx context.Context, userID uint) (Device, error) {
	ds, err := s.Devices(ctx, userID)
	if err != nil || len(ds) == 0 {
		return nil, err
	}
	if s.methods.byCode[ds[0].MethodCode()].Primary() {
		return ds[0], nil
	}
	return nil, nil
}

// deviceByKey finds a confirmed device of the user by key.
func (s *Service) deviceByKey(ctx context.Context, userID uint, key string) (Device, error) {
	code, _, ok := splitKey(key)
	m := s.methods.byCode[code]
	if !ok || m == nil {
		return nil, nil
	}
	ds, err := m.Devices(ctx, userID)
	if err != nil {
		return nil, err
	}
	for _, d := range ds {
		if d.Key() == key {
			return d, nil
		}
	}
	return nil, nil
}

// deviceOf returns the user's confirmed device of method code, or nil.
func (s *Service) deviceOf(ctx context.Context, userID uint, code string) (Device, error) {
	m := s.methods.byCode[code]
	if m == nil {
		return nil, nil
	}
	ds, err := m.Devices(ctx, userID)
	if err != nil || len(ds) == 0 {
		return nil, err
	}
	return ds[0], nil
}

// formValue is a small helper for Enrollers reading posted values.
func formValue(f url.Values, k string) string { return strings.TrimSpace(f.Get(k)) }

// Stepper is an Enroller whose setup step is a form of its own before the
// code (a phone number, an email address). The wizard calls SetupSubmit for
// posts of the method's step; on success the code has been sent and the
// wizard moves to the "validation" step (partial "setup-validation"), whose
// token field is the Enroller's TokenField ("validation-token"). A
// *UserError keeps the user on the method's step with its message.
type Stepper interface {
	Enroller
	SetupSubmit(c *gin.Context, u *User, deviceID uint) error
}

// TokenForm is a Device whose token step needs form fields of its own (a
// WebAuthn ceremony, a YubiKey); TokenPartial names the template that draws
// them. Without it the step shows a numeric code field ("token-code").
// Whatever the form, the answer is posted as token-otp_token.
type TokenForm interface {
	TokenPartial() string
}

// Challenger is a Device that must send the user something first (SMS,
// voice call, email). The login wizard calls Challenge when the device
// becomes the one asked for.
type Challenger interface {
	Challenge(c *gin.Context, u *User) error
}

// Router is a Method with HTTP endpoints of its own (WebAuthn ceremony
// endpoints, gateway callbacks). Routes are added by Engine, inside the
// session and language middleware.
type Router interface {
	Routes(r gin.IRouter)
}

// UserError is an error with a translated message for the user; methods
// return it for conditions the user can act on (cooldown, wrong number).
type UserError struct {
	ID   string // message id
	Args []any  // name, value pairs for the message's placeholders
}

func (e *UserError) Error() string { return "user error: " + e.ID }

// Message translates the error in the request's language.
func (e *UserError) Message(c *gin.Context) string { return locale.From(c).T(e.ID, e.Args...) }
