package auth

import (
	"context"
	"errors"
	"fmt"
)

// Pruner is a Method that keeps state of its own which expires (ceremony
// challenges, pending calls, cooldowns). Service.Prune calls it.
type Pruner interface {
	// Prune deletes what expired by the service clock and says how many
	// rows went.
	Prune(ctx context.Context) (int64, error)
}

// PruneReport counts the rows one Prune deleted.
type PruneReport struct {
	Throttle int64 // throttle rows past their keep, or back at zero
	Sessions int64 // expired sessions (database backend)
	Events   int64 // security events older than EventRetention
	Pending  int64 // expired one-time links and the methods' pending state
}

// String is the report as one line, for logs.
func (r PruneReport) String() string {
	return fmt.Sprintf("throttle rows %d, sessions %d, events %d, pending %d", r.Throttle, r.Sessions, r.Events, r.Pending)
}

// sweeper is a session backend that deletes its own expired records (the
// database backend; Redis expires them itself by TTL).
type sweeper interface {
	Sweep(ctx context.Context) (int64, error)
}

// Prune deletes, by the service clock, what no longer counts: throttle
// rows whose wait has passed and that stayed idle for their keep (never
// the per-device and per-account counts, so NIST's cap stays), expired
// sessions, security events older than EventRetention, expired
// first-superuser links, and every Pruner method's expired state. Anonymous
// traffic thus cannot grow the database without bound. It is safe to run
// on several instances at once; site serve runs it periodically.
func (s *Service) Prune(ctx context.Context) (PruneReport, error) {
	var r PruneReport
	var errs []error
	add := func(dst *int64, n int64, err error) {
		*dst += n
		errs = append(errs, err)
	}
	n, err := s.thr.prune(ctx)
	add(&r.Throttle, n, err)
	if sw, ok := s.backend.(sweeper); ok {
		n, err := sw.Sweep(ctx)
		add(&r.Sessions, n, err)
	}
	if s.cfg.EventRetention > 0 {
		res := s.db.WithContext(ctx).Where("at < ?", s.clock.Now().Add(-s.cfg.EventRetention).UTC()).Delete(&Event{})
		add(&r.Events, res.RowsAffected, res.Error)
	}
	res := s.db.WithContext(ctx).Where("expires_at <= ?", s.clock.Now()).Delete(&bootstrapToken{})
	add(&r.Pending, res.RowsAffected, res.Error)
	for _, m := range s.methods.methods {
		if p, ok := m.(Pruner); ok {
			n, err := p.Prune(ctx)
			add(&r.Pending, n, err)
		}
	}
	return r, errors.Join(errs...)
}
