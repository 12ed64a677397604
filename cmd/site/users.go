package main

import (
	"bufio"
	"errors"
	"fmt"
	"os"
	"strings"

	"golang.org/x/term"

	"github.com/gatehouse/gatehouse/auth"
)

func cmdCreateSuperuser(e *env, args []string) error {
	return createUser(e, "createsuperuser", args, true)
}
func cmdCreateUser(e *env, args []string) error { return createUser(e, "createuser", args, false) }

func createUser(e *env, name string, args []string, super bool) error {
	fs := e.flags(name, "")
	dsn := e.dbFlag(fs)
	username := fs.String("username", "", "username")
	email := fs.String("email", "", "email address")
	noinput := fs.Bool("noinput", false, "ask nothing; the password comes from GATEHOUSE_SUPERUSER_PASSWORD")
	staff := super
	if !super {
		fs.BoolVar(&staff, "staff", false, "let the user into the admin (no superuser rights)")
	}
	if err := fs.Parse(args); err != nil {
		return err
	}
	s, err := e.open(*dsn, false)
	if err != nil {
		return err
	}
	in := bufio.NewReader(e.stdin)
	var password string
	if *noinput {
		if *username == "" {
			return errors.New("--username is required with --noinput")
		}
		password = e.getenv("GATEHOUSE_SUPERUSER_PASSWORD")
		if password == "" {
			return errors.New("GATEHOUSE_SUPERUSER_PASSWORD: set it to the password when using --noinput")
		}
	} else {
		if *username == "" {
			if *username, err = e.prompt(in, "Username: "); err != nil {
				return err
			}
		}
		if *email == "" {
			if *email, err = e.prompt(in, "Email address (optional): "); err != nil {
				return err
			}
		}
		if password, err = e.newPassword(in, *username); err != nil {
			return err
		}
	}
	u, err := s.auth.CreateUser(contextBG(), auth.NewUser{Username: *username, Email: *email, Password: password, Staff: staff, Superuser: super})
	if err != nil {
		return err
	}
	kind := "User"
	if super {
		kind = "Superuser"
	} else if staff {
		kind = "Staff user"
	}
	fmt.Fprintf(e.stdout, "%s %q created. At the first login they will set up two-factor authentication.\n", kind, u.Username)
	return nil
}

func cmdChangePassword(e *env, args []string) error {
	fs := e.flags("changepassword", "USERNAME")
	dsn := e.dbFlag(fs)
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() != 1 {
		fmt.Fprintln(e.stderr, "site changepassword: give exactly one USERNAME")
		return errUsage
	}
	s, err := e.open(*dsn, false)
	if err != nil {
		return err
	}
	u, err := s.auth.UserByName(contextBG(), fs.Arg(0))
	if err != nil {
		return err
	}
	password, err := e.newPassword(bufio.NewReader(e.stdin), u.Username)
	if err != nil {
		return err
	}
	if err := s.auth.SetPassword(contextBG(), u, password); err != nil {
		return err
	}
	fmt.Fprintf(e.stdout, "Password changed for %q; their other sessions have ended.\n", u.Username)
	return nil
}

// newPassword asks twice until the two match and the rules pass (3 tries).
func (e *env) newPassword(in *bufio.Reader, username string) (string, error) {
	for range 3 {
		p1, err := e.secret(in, "Password: ")
		if err != nil {
			return "", err
		}
		p2, err := e.secret(in, "Password (again): ")
		if err != nil {
			return "", err
		}
		switch {
		case p1 != p2:
			fmt.Fprintln(e.stderr, "The passwords do not match. Try again.")
		case auth.PasswordProblem(p1, username) != "":
			fmt.Fprintln(e.stderr, passwordRule(auth.PasswordProblem(p1, username)))
		default:
			return p1, nil
		}
	}
	return "", errors.New("no acceptable password after 3 tries")
}

func passwordRule(id string) string {
	switch id {
	case "password_too_short":
		return "The password must have at least 12 characters."
	case "password_too_long":
		return "The password must have at most 128 characters."
	case "password_all_digits":
		return "The password cannot be only digits."
	}
	return "The password cannot be the username."
}

func (e *env) prompt(in *bufio.Reader, label string) (string, error) {
	fmt.Fprint(e.stderr, label)
	line, err := in.ReadString('\n')
	if err != nil && line == "" {
		return "", fmt.Errorf("no answer to %q (standard input ended); use --noinput", strings.TrimSpace(label))
	}
	return strings.TrimSpace(line), nil
}

// secret reads without echo from a terminal, or a line from a pipe.
func (e *env) secret(in *bufio.Reader, label string) (string, error) {
	if f, ok := e.stdin.(*os.File); ok && term.IsTerminal(int(f.Fd())) {
		fmt.Fprint(e.stderr, label)
		b, err := term.ReadPassword(int(f.Fd()))
		fmt.Fprintln(e.stderr)
		return string(b), err
	}
	fmt.Fprint(e.stderr, label)
	line, err := in.ReadString('\n')
	if err != nil && line == "" {
		return "", errors.New("no password given (standard input ended)")
	}
	return strings.TrimRight(line, "\r\n"), nil
}

func cmdStatus(e *env, args []string) error  { return eachUser(e, "two-factor-status", args, false) }
func cmdDisable(e *env, args []string) error { return eachUser(e, "two-factor-disable", args, true) }

// eachUser reports or disables two-factor authentication per user; an
// unknown user is named on stderr and makes the exit status 1.
func eachUser(e *env, name string, args []string, disable bool) error {
	fs := e.flags(name, "USERNAME...")
	dsn := e.dbFlag(fs)
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() == 0 {
		fmt.Fprintf(e.stderr, "site %s: give at least one USERNAME\n", name)
		return errUsage
	}
	s, err := e.open(*dsn, false)
	if err != nil {
		return err
	}
	failed := false
	for _, n := range fs.Args() {
		u, err := s.auth.UserByName(contextBG(), n)
		if err != nil {
			if auth.IsNoUser(err) {
				fmt.Fprintf(e.stderr, "site %s: user %q does not exist\n", name, n)
				failed = true
				continue
			}
			return err
		}
		if disable {
			if err := s.auth.DisableTwoFactor(contextBG(), u); err != nil {
				return err
			}
			fmt.Fprintf(e.stdout, "%s: disabled\n", u.Username)
			continue
		}
		on, err := s.auth.TwoFactorEnabled(contextBG(), u)
		if err != nil {
			return err
		}
		state := "disabled"
		if on {
			state = "enabled"
		}
		fmt.Fprintf(e.stdout, "%s: %s\n", u.Username, state)
	}
	if failed {
		return errUsage
	}
	return nil
}
