package main

import (
	"context"

	"github.com/gatehouse/gatehouse/cmd/site/library"
)

// registerLibrary adds the demo app to the site: its tables, its admin
// pages (before the admin is mounted) and their permissions.
func registerLibrary(ctx context.Context, s *site) error {
	if err := library.Migrate(ctx, s.db); err != nil {
		return err
	}
	library.Register(s.admin, s.auth.Now)
	return s.admin.Migrate(ctx)
}
