package auth_test

import (
	"context"
	"fmt"
	"log/slog"

	"github.com/gatehouse/gatehouse/auth"
)

// ExampleService_OnEvent tells a user when one of their backup codes was
// used to sign in, as the seed suggests: if it was not them, their codes
// have leaked and they should generate new ones.
//
// The login wizard records auth.EventBackupUsed after every login whose
// second factor was a backup code; here one is recorded by hand so the
// example runs on its own. To send real mail, replace the Printf with
// net/smtp (smtp.SendMail(addr, smtp.PlainAuth(...), from, []string{u.Email},
// msg)) or your mail service's client, and do it off the request path (a
// goroutine or a job queue): hooks run inside the login request.
func ExampleService_OnEvent() {
	s, done := exampleService()
	defer done()
	u, err := s.CreateUser(context.Background(), auth.NewUser{Username: "ana", Email: "ana@example.com", Password: "a long enough password"})
	if err != nil {
		panic(err)
	}

	s.OnEvent(func(ctx context.Context, e auth.Event) {
		if e.Kind != auth.EventBackupUsed {
			return
		}
		u, err := s.UserByID(ctx, e.UserID)
		if err != nil || u.Email == "" {
			slog.Warn("backup code used; cannot tell the user", "user_id", e.UserID, "err", err)
			return
		}
		fmt.Printf("To: %s\nSubject: A backup code was used to sign in\n\n", u.Email)
		fmt.Printf("Hello %s, a backup code was just used to sign in to your account from %s.\n", u.Username, e.IP)
		fmt.Println("If this was not you, change your password and generate new backup codes.")
	})

	s.RecordContext(auth.WithClientIP(context.Background(), "203.0.113.9"),
		auth.Event{Kind: auth.EventBackupUsed, UserID: u.ID, Device: "backup/1"})
	// Output:
	// To: ana@example.com
	// Subject: A backup code was used to sign in
	//
	// Hello ana, a backup code was just used to sign in to your account from 203.0.113.9.
	// If this was not you, change your password and generate new backup codes.
}
