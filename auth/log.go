package auth

import (
	"github.com/gin-gonic/gin"

	"github.com/gatehouse/gatehouse/internal/httpx"
)

func errLog(c *gin.Context, err error) {
	httpx.Logger(c.Request.Context()).Error("auth", "path", c.Request.URL.Path, "err", err)
}
