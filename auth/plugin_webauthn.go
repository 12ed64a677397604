package auth

import (
	"context"

	"github.com/gin-gonic/gin"
)

// This file holds two small, generic extension points that the WebAuthn
// method (auth/webauthn) needed and that any other method may use.

// RequestInfo is what a Device's VerifyToken may need to know about the
// request it runs in. VerifyToken gets only a context, so the session
// middleware puts these facts into every request's context.
type RequestInfo struct {
	// Binding is Service.Binding of the session as the request arrived:
	// ceremony state stored under it by an earlier request of the same
	// session (a WebAuthn challenge) can be found again, and only there.
	Binding string
}

type requestInfoKey struct{}

// RequestInfoFrom returns the request facts carried by ctx; the zero value
// (no binding) when ctx does not come from a request of the engine.
func RequestInfoFrom(ctx context.Context) RequestInfo {
	ri, _ := ctx.Value(requestInfoKey{}).(RequestInfo)
	return ri
}

// withRequestInfo puts RequestInfo, and the client IP for RecordContext,
// into the request's context. Both are computed eagerly (never a closure
// over c: gin pools its contexts).
func (s *Service) withRequestInfo(c *gin.Context) {
	ctx := context.WithValue(c.Request.Context(), requestInfoKey{}, RequestInfo{Binding: s.Binding(c)})
	c.Request = c.Request.WithContext(WithClientIP(ctx, c.ClientIP()))
}

// SetFeature turns a named feature on or off for templates, which test it
// with {{if feature "name"}}. Methods use it for markup that exists only
// when they are enabled: "webauthn" (the security keys link on the account
// page), "passkey-login" (the passkey button on the login page). Set
// features before serving.
func (s *Service) SetFeature(name string, on bool) {
	if on {
		s.features.Store(name, true)
	} else {
		s.features.Delete(name)
	}
}

// feature reports whether a feature is on; the template function "feature".
func (s *Service) feature(name string) bool {
	_, ok := s.features.Load(name)
	return ok
}
