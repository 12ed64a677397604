package auth

import (
	"context"
	"net/http"
	"time"

	"github.com/gin-gonic/gin"
)

// Health endpoints for load balancers and orchestrators. Neither needs a
// login, creates a session, appears in the access log or says more than
// "ok" or "unavailable": the reason of a failed probe goes to the log.
const (
	HealthzPath = "/healthz"
	ReadyzPath  = "/readyz"
)

// readyTimeout is how long each store has to answer the readiness probe.
const readyTimeout = time.Second

// pinger is a session backend that can say whether it answers (Redis).
type pinger interface {
	Ping(ctx context.Context) error
}

// Drain makes /readyz answer 503 from now on, so a load balancer stops
// sending new requests while in-flight ones finish: call it when shutdown
// starts.
func (s *Service) Drain() { s.draining.Store(true) }

// healthz answers 200 while the process serves.
func (s *Service) healthz(c *gin.Context) {
	c.Header("Cache-Control", "no-store")
	c.String(http.StatusOK, "ok\n")
}

// readyz answers 200 when the database (and Redis, when it holds the
// sessions) answer within readyTimeout, else 503.
func (s *Service) readyz(c *gin.Context) {
	c.Header("Cache-Control", "no-store")
	if err := s.ready(c.Request.Context()); err != nil {
		s.Logger().Warn("not ready", "reason", err.Error())
		c.String(http.StatusServiceUnavailable, "unavailable\n")
		return
	}
	c.String(http.StatusOK, "ok\n")
}

type notReady string

func (e notReady) Error() string { return string(e) }

func (s *Service) ready(ctx context.Context) error {
	if s.draining.Load() {
		return notReady("shutting down")
	}
	ctx, cancel := context.WithTimeout(ctx, readyTimeout)
	defer cancel()
	sqlDB, err := s.db.DB()
	if err != nil {
		return err
	}
	if err := sqlDB.PingContext(ctx); err != nil {
		return notReady("database: " + err.Error())
	}
	if p, ok := s.backend.(pinger); ok {
		if err := p.Ping(ctx); err != nil {
			return notReady("session store: " + err.Error())
		}
	}
	return nil
}
