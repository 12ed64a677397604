package httpx

import (
	"context"
	"log/slog"
	"time"

	"github.com/gin-gonic/gin"
)

type loggerKey struct{}

// WithLogger returns ctx carrying l, the logger of everything the request
// causes; Logger reads it back.
func WithLogger(ctx context.Context, l *slog.Logger) context.Context {
	return context.WithValue(ctx, loggerKey{}, l)
}

// Logger is the logger ctx carries (see AccessLog), or slog.Default().
// Code that handles a request logs through it, so a site (or a test) that
// injects a logger gets every line of its requests.
func Logger(ctx context.Context) *slog.Logger {
	if l, ok := ctx.Value(loggerKey{}).(*slog.Logger); ok && l != nil {
		return l
	}
	return slog.Default()
}

// AccessLog puts l (nil: slog.Default() at the time of each request), with
// the request id when RequestID ran first, into
// every request's context and logs each request's method, path (never the
// query, which may carry a one-time link), status and duration through it.
func AccessLog(l *slog.Logger) gin.HandlerFunc {
	return func(c *gin.Context) {
		start := time.Now()
		log := l
		if log == nil {
			log = slog.Default()
		}
		if id := RequestIDFrom(c.Request.Context()); id != "" {
			log = log.With("request_id", id)
		}
		c.Request = c.Request.WithContext(WithLogger(c.Request.Context(), log))
		c.Next()
		log.Info("http", "method", c.Request.Method, "path", c.Request.URL.Path,
			"status", c.Writer.Status(), "ms", float64(time.Since(start).Microseconds())/1000, "ip", c.ClientIP())
	}
}

// Recover turns a panic into a logged 500 without a stack trace for the
// client. It runs before AccessLog, and logs through the request's logger.
func Recover() gin.HandlerFunc {
	return gin.CustomRecovery(func(c *gin.Context, err any) {
		Logger(c.Request.Context()).Error("panic", "path", c.Request.URL.Path, "err", err)
		c.AbortWithStatus(500)
	})
}
