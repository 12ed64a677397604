package main

import (
	"context"
	"log/slog"

	"github.com/gatehouse/gatehouse/auth"
)

func init() { plugins = append(plugins, warnBackupUsed) }

// warnBackupUsed logs a warning whenever a backup code signs someone in:
// the seed suggests telling the user, since it may mean their phone is
// lost or someone else has their codes. A real site would email the user
// here (see auth's ExampleService_OnEvent).
func warnBackupUsed(_ *env, a *auth.Service) error {
	a.OnEvent(func(ctx context.Context, ev auth.Event) {
		if ev.Kind != auth.EventBackupUsed {
			return
		}
		name := ""
		if u, err := a.UserByID(ctx, ev.UserID); err == nil {
			name = u.Username
		}
		slog.WarnContext(ctx, "backup code used to sign in", "user", name, "user_id", ev.UserID, "ip", ev.IP)
	})
	return nil
}
