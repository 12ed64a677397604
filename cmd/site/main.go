// Command site runs the Gatehouse demo site and its management commands.
//
//	site [serve]            start the site (default)
//	site migrate            create or update the tables
//	site createsuperuser    create a superuser
//	site createuser         create a user (--staff for admin access)
//	site changepassword U   set a user's password
//	site two-factor-status U...   print "U: enabled" or "U: disabled"
//	site two-factor-disable U...  remove all devices of each user
//	site seed-demo --books N      fill the library demo app
//	site bench-admin              measure the library changelist (loopback only)
//	site prune                    delete expired throttle rows, sessions, old events
//
// Every command reads GATEHOUSE_DB (a SQLite path, postgres:// or mysql://
// DSN; default data/gatehouse.db) and has --help.
package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"sort"
	"time"
)

// command is one subcommand.
type command struct {
	summary string
	run     func(env *env, args []string) error
}

// commands starts empty and is filled by init functions (this file's and
// optional features' files), in whatever order they run.
var commands = map[string]command{}

func init() {
	for name, c := range map[string]command{
		"serve":              {"start the web site (the default command)", cmdServe},
		"migrate":            {"create or update the database tables", cmdMigrate},
		"createsuperuser":    {"create a superuser (staff with every permission)", cmdCreateSuperuser},
		"createuser":         {"create a user; --staff lets them into the admin", cmdCreateUser},
		"changepassword":     {"set a user's password (ends their other sessions)", cmdChangePassword},
		"two-factor-status":  {"print whether two-factor authentication is enabled for users", cmdStatus},
		"two-factor-disable": {"remove all second-factor devices of users", cmdDisable},
		"seed-demo":          {"fill the library demo app with N books, their authors, tags and loans", cmdSeedDemo},
		"bench-admin":        {"measure the library changelist under load on a loopback port (after seed-demo)", cmdBenchAdmin},
	} {
		commands[name] = c
	}
}

// env is what commands share: streams, so tests can drive them.
type env struct {
	stdin          io.Reader
	stdout, stderr io.Writer
	getenv         func(string) string
	// shutdownTimeout is how long serve waits for in-flight requests.
	shutdownTimeout time.Duration
}

// errUsage marks an error already explained to the user.
var errUsage = errors.New("usage")

func main() {
	e := &env{stdin: os.Stdin, stdout: os.Stdout, stderr: os.Stderr, getenv: os.Getenv}
	os.Exit(run(e, os.Args[1:]))
}

func run(e *env, args []string) int {
	name := "serve"
	if len(args) > 0 && (args[0] == "-h" || args[0] == "--help" || args[0] == "help") {
		usage(e.stdout)
		return 0
	}
	if len(args) > 0 && args[0] != "" && args[0][0] != '-' {
		name, args = args[0], args[1:]
	}
	cmd, ok := commands[name]
	if !ok {
		fmt.Fprintf(e.stderr, "site: unknown command %q\n\n", name)
		usage(e.stderr)
		return 2
	}
	if err := cmd.run(e, args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		if !errors.Is(err, errUsage) {
			fmt.Fprintf(e.stderr, "site %s: %v\n", name, err)
		}
		return 1
	}
	return 0
}

func usage(w io.Writer) {
	fmt.Fprintf(w, "Usage: site [command] [flags]\n\nCommands:\n")
	names := make([]string, 0, len(commands))
	for n := range commands {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		fmt.Fprintf(w, "  %-20s %s\n", n, commands[n].summary)
	}
	fmt.Fprintf(w, "\nRun 'site COMMAND --help' for a command's flags. Settings come from GATEHOUSE_* variables; see README.md.\n")
}

// flags returns a FlagSet whose --help prints the command's summary first.
func (e *env) flags(name, argsUsage string) *flag.FlagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(e.stderr)
	fs.Usage = func() {
		fmt.Fprintf(e.stdout, "Usage: site %s [flags] %s\n\n%s.\n\nFlags:\n", name, argsUsage, commands[name].summary)
		fs.SetOutput(e.stdout)
		fs.PrintDefaults()
		fs.SetOutput(e.stderr)
	}
	return fs
}
