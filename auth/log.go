package auth

import (
	"log/slog"

	"github.com/gin-gonic/gin"
)

func errLog(c *gin.Context, err error) {
	slog.Error("auth", "path", c.Request.URL.Path, "err", err)
}
