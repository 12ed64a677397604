package auth

import (
	"context"
	"fmt"

	"gorm.io/gorm"
)

// This file holds a generic extension point the YubiKey method
// (auth/yubikey) needed and any other method may use.

// Seeder is a Method with rows that must exist once its tables do (the
// YubiKey method's validation service named "default"). Migrate calls Seed
// after creating the tables. Seed must leave existing rows alone and be
// safe when several instances migrate at once.
type Seeder interface {
	Seed(ctx context.Context, db *gorm.DB) error
}

// seedMethods runs the Seeders among the registered methods.
func (s *Service) seedMethods(ctx context.Context) error {
	for _, m := range s.methods.methods {
		if sd, ok := m.(Seeder); ok {
			if err := sd.Seed(ctx, s.db); err != nil {
				return fmt.Errorf("migrate: seed %s: %w", m.Code(), err)
			}
		}
	}
	return nil
}
