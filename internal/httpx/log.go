package httpx

import (
	"log/slog"
	"time"

	"github.com/gin-gonic/gin"
)

// AccessLog logs each request's method, path (never the query, which may
// carry a one-time link), status and duration.
func AccessLog() gin.HandlerFunc {
	return func(c *gin.Context) {
		start := time.Now()
		c.Next()
		slog.Info("http", "method", c.Request.Method, "path", c.Request.URL.Path,
			"status", c.Writer.Status(), "ms", float64(time.Since(start).Microseconds())/1000, "ip", c.ClientIP())
	}
}

// Recover turns a panic into a logged 500 without a stack trace for the client.
func Recover() gin.HandlerFunc {
	return gin.CustomRecovery(func(c *gin.Context, err any) {
		slog.Error("panic", "path", c.Request.URL.Path, "err", err)
		c.AbortWithStatus(500)
	})
}
