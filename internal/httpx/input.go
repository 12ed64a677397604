package httpx

import (
	"errors"
	"net/http"
	"strings"
	"unicode/utf8"

	"github.com/gin-gonic/gin"
)

// MaxBody is the largest request body a form may have.
const MaxBody = 1 << 20

// ErrBadInput is the reason the input guard refused a request.
var ErrBadInput = errors.New("bad input")

// InputGuard parses form bodies up front with a size cap and refuses, with
// 400 or 413, bodies that are too large or carry invalid UTF-8 or NUL bytes,
// so no handler sees such input.
func InputGuard() gin.HandlerFunc {
	return func(c *gin.Context) {
		r := c.Request
		if r.Method != http.MethodPost {
			c.Next()
			return
		}
		if r.ContentLength > MaxBody {
			refuse(c, http.StatusRequestEntityTooLarge, "body too large")
			return
		}
		r.Body = http.MaxBytesReader(c.Writer, r.Body, MaxBody)
		ct := r.Header.Get("Content-Type")
		if !strings.HasPrefix(ct, "application/x-www-form-urlencoded") && !strings.HasPrefix(ct, "multipart/form-data") {
			c.Next() // JSON ceremony endpoints validate their own bodies.
			return
		}
		if err := r.ParseMultipartForm(MaxBody); err != nil && !errors.Is(err, http.ErrNotMultipart) {
			var mbe *http.MaxBytesError
			if errors.As(err, &mbe) {
				refuse(c, http.StatusRequestEntityTooLarge, "body too large")
				return
			}
			refuse(c, http.StatusBadRequest, "malformed form: "+err.Error())
			return
		}
		for k, vs := range r.PostForm {
			if !clean(k) {
				refuse(c, http.StatusBadRequest, "invalid field name")
				return
			}
			for _, v := range vs {
				if !clean(v) {
					refuse(c, http.StatusBadRequest, "invalid UTF-8 or NUL byte in field "+k)
					return
				}
			}
		}
		c.Next()
	}
}

func clean(s string) bool { return utf8.ValidString(s) && !strings.ContainsRune(s, 0) }

func refuse(c *gin.Context, status int, reason string) {
	Logger(c.Request.Context()).Warn("input refused", "path", c.Request.URL.Path, "status", status, "reason", reason)
	c.Header("Connection", "close")
	c.AbortWithStatusJSON(status, gin.H{"error": http.StatusText(status) + ": " + reason})
}
