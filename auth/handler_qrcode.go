package auth

import (
	"fmt"
	"net/http"
	"strings"

	"github.com/boombuler/barcode/qr"
	ginsessions "github.com/gin-contrib/sessions"
	"github.com/gin-gonic/gin"
)

// qrcode serves the pending TOTP secret's QR code as SVG; 404 when there is
// no pending secret for this session.
func (s *Service) qrcode(c *gin.Context) {
	sess := ginsessions.Default(c)
	u, _ := s.setupUser(c, sess)
	if u == nil {
		s.fail(c, http.StatusNotFound, "error_not_found")
		return
	}
	e, id := s.pendingEnrol(sess)
	if e == nil || e.Code() != "generator" {
		s.fail(c, http.StatusNotFound, "error_not_found")
		return
	}
	data, err := e.SetupView(c.Request.Context(), u, id)
	if err != nil {
		s.fail(c, http.StatusNotFound, "error_not_found")
		return
	}
	svg, err := qrSVG(data.(*TOTPSetup).URL)
	if err != nil {
		s.internalError(c, err)
		return
	}
	c.Header("Cache-Control", "no-store")
	c.Data(http.StatusOK, "image/svg+xml", []byte(svg))
}

// qrSVG encodes text with boombuler/barcode and draws its modules as one
// SVG path, with the standard four-module quiet zone.
func qrSVG(text string) (string, error) {
	code, err := qr.Encode(text, qr.M, qr.Auto)
	if err != nil {
		return "", err
	}
	n := code.Bounds().Dx()
	const quiet = 4
	var b strings.Builder
	fmt.Fprintf(&b, `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 %d %d" shape-rendering="crispEdges">`, n+2*quiet, n+2*quiet)
	fmt.Fprintf(&b, `<rect width="100%%" height="100%%" fill="#fff"/><path fill="#000" d="`)
	for y := 0; y < n; y++ {
		for x := 0; x < n; x++ {
			if r, _, _, _ := code.At(x, y).RGBA(); r == 0 {
				fmt.Fprintf(&b, "M%d %dh1v1h-1z", x+quiet, y+quiet)
			}
		}
	}
	b.WriteString(`"/></svg>`)
	return b.String(), nil
}
