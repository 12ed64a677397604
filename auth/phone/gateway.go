package phone

import (
	"context"
	"errors"
	"fmt"
	"log/slog"

	"github.com/gin-gonic/gin"

	"github.com/gatehouse/gatehouse/internal/locale"
)

// Message is one code to deliver.
type Message struct {
	To    string       // E.164
	Token string       // the code, ASCII digits
	Lang  *locale.Lang // the user's language, for the text or the voice
}

// Call is a code to deliver by a voice call. A gateway that fetches what
// to say from the site (Twilio) puts ID into the callback URL, never the
// token: ID is opaque, single-use and expires with the code.
type Call struct {
	Message
	ID string
}

// SMSGateway sends text messages (the seed's send_sms).
type SMSGateway interface {
	SendSMS(ctx context.Context, m Message) error
}

// CallGateway makes voice calls (the seed's make_call).
type CallGateway interface {
	MakeCall(ctx context.Context, c Call) error
}

// CallRouter is a CallGateway with HTTP endpoints of its own, such as
// Twilio's TwiML callback. The phone method mounts them in the engine,
// inside the session and language middleware, and hands over the pending
// calls.
type CallRouter interface {
	CallRoutes(r gin.IRouter, calls Calls)
}

// CallbackPath is where a call's script is fetched: CallbackPath + ID + "/".
const CallbackPath = "/twilio/inbound/two_factor/"

// ErrNoCall means a call id is unknown, used or expired.
var ErrNoCall = errors.New("phone: no such call")

// Calls gives call gateways the pending calls.
type Calls interface {
	// PeekCall returns the pending call with id without its token (for a
	// greeting before the code is read out): Lang, Fallback and To only.
	PeekCall(ctx context.Context, id string) (*PendingCall, error)
	// TakeCall returns the pending call with its token and consumes it:
	// under any concurrency only one caller ever gets the token.
	TakeCall(ctx context.Context, id string) (*PendingCall, error)
}

// PendingCall is what a gateway needs to speak a code.
type PendingCall struct {
	To       string       // E.164
	Token    string       // "" from PeekCall
	Lang     *locale.Lang // the user's language when the call was made
	Fallback *locale.Lang // English, for voices that do not speak Lang
}

// Fake is the development gateway of the seed: it writes the codes to the
// log at INFO, `Fake SMS to +31101234567: "Your token is: 123456"`, and
// sends nothing. Never use it in production: the log then holds codes.
type Fake struct {
	// Logger receives the lines; nil means slog.Default().
	Logger *slog.Logger
}

func (f Fake) logger() *slog.Logger {
	if f.Logger != nil {
		return f.Logger
	}
	return slog.Default()
}

// SendSMS logs the text message.
func (f Fake) SendSMS(ctx context.Context, m Message) error {
	f.logger().InfoContext(ctx, fmt.Sprintf("Fake SMS to %s: \"Your token is: %s\"", m.To, m.Token))
	return nil
}

// MakeCall logs the call.
func (f Fake) MakeCall(ctx context.Context, c Call) error {
	f.logger().InfoContext(ctx, fmt.Sprintf("Fake call to %s: \"Your token is: %s\"", c.To, c.Token))
	return nil
}
