package main

import (
	"context"
	"fmt"
	"log/slog"
	"time"
)

func init() {
	commands["prune"] = command{"delete expired throttle rows, sessions, pending state and old security events", cmdPrune}
}

// pruneEvery is how often site serve prunes in the background.
const pruneEvery = 10 * time.Minute

func cmdPrune(e *env, args []string) error {
	fs := e.flags("prune", "")
	dsn := e.dbFlag(fs)
	if err := fs.Parse(args); err != nil {
		return err
	}
	s, err := e.open(*dsn, false)
	if err != nil {
		return err
	}
	r, err := s.auth.Prune(contextBG())
	if err != nil {
		return err
	}
	fmt.Fprintf(e.stdout, "Deleted %s.\n", r)
	return nil
}

// pruneLoop prunes at start and then every pruneEvery until ctx ends (the
// server shuts down). A failure is logged and retried next time.
func (s *site) pruneLoop(ctx context.Context) {
	tick := time.NewTicker(pruneEvery)
	defer tick.Stop()
	for {
		r, err := s.auth.Prune(ctx)
		switch {
		case err != nil && ctx.Err() == nil:
			slog.Error("prune", "err", err)
		case err == nil:
			slog.Info("prune", "deleted", r.String())
		}
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
	}
}
