package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"strconv"
	"syscall"
	"time"

	"github.com/gatehouse/gatehouse/auth"
)

func contextBG() context.Context { return context.Background() }

// handler builds the whole site's HTTP handler.
func (s *site) handler() http.Handler {
	e := s.auth.Engine()
	s.admin.Mount(e)
	return auth.Handler(e)
}

func cmdServe(e *env, args []string) error {
	fs := e.flags("serve", "")
	dsn := e.dbFlag(fs)
	def := e.getenv("GATEHOUSE_ADDR")
	if def == "" {
		def = "localhost:8000"
	}
	addr := fs.String("addr", def, "address to listen on (GATEHOUSE_ADDR)")
	dev := fs.Bool("dev", e.getenv("GATEHOUSE_DEV") != "", "reload templates and locale files on every request (GATEHOUSE_DEV)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if err := e.readShutdownTimeout(); err != nil {
		return err
	}
	s, err := e.open(*dsn, *dev)
	if err != nil {
		return err
	}
	ln, err := net.Listen("tcp", *addr)
	if err != nil {
		return fmt.Errorf("GATEHOUSE_ADDR: %w", err)
	}
	base := "http://" + displayAddr(ln.Addr().String())
	fmt.Fprintf(e.stdout, "Gatehouse is running at %s/admin/\n", base)
	if has, err := s.auth.HasSuperuser(contextBG()); err == nil && !has {
		link, err := s.auth.BootstrapLink(contextBG())
		if err != nil {
			return err
		}
		fmt.Fprintf(e.stdout, "No superuser yet. Create one within the hour at:\n  %s%s\nor run: site createsuperuser\n", base, link)
	} else {
		fmt.Fprintf(e.stdout, "Log in at %s/account/login/\n", base)
	}
	srv := &http.Server{Handler: s.handler(), ReadHeaderTimeout: 10 * time.Second, ReadTimeout: 30 * time.Second,
		WriteTimeout: 60 * time.Second, IdleTimeout: 120 * time.Second, MaxHeaderBytes: 64 << 10}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	pruned := make(chan struct{})
	go func() { s.pruneLoop(ctx); close(pruned) }()
	defer func() { stop(); <-pruned }()
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	// Readiness turns 503 at once so a load balancer stops sending; in-flight
	// requests get up to GATEHOUSE_SHUTDOWN_TIMEOUT to finish.
	s.auth.Drain()
	slog.Info("shutting down", "timeout", e.shutdownTimeout.String())
	shut, cancel := context.WithTimeout(context.Background(), e.shutdownTimeout)
	defer cancel()
	if err := srv.Shutdown(shut); err != nil && !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return s.close()
}

// close releases the stores after the last request.
func (s *site) close() error {
	var errs []error
	if c, ok := s.auth.Config().SessionBackend.(interface{ Close() error }); ok {
		errs = append(errs, c.Close())
	}
	if sqlDB, err := s.db.DB(); err == nil {
		errs = append(errs, sqlDB.Close())
	}
	return errors.Join(errs...)
}

// readShutdownTimeout reads GATEHOUSE_SHUTDOWN_TIMEOUT (seconds, default 20).
func (e *env) readShutdownTimeout() error {
	e.shutdownTimeout = 20 * time.Second
	v := e.getenv("GATEHOUSE_SHUTDOWN_TIMEOUT")
	if v == "" {
		return nil
	}
	n, err := strconv.ParseFloat(v, 64)
	if err != nil || !(n > 0) || n > maxSeconds {
		return fmt.Errorf("GATEHOUSE_SHUTDOWN_TIMEOUT: %q is not a positive number of seconds", v)
	}
	e.shutdownTimeout = time.Duration(n * float64(time.Second))
	return nil
}

// displayAddr shows loopback as localhost: WebAuthn needs a host name.
func displayAddr(a string) string {
	host, port, err := net.SplitHostPort(a)
	if err != nil {
		return a
	}
	if ip := net.ParseIP(host); ip != nil && ip.IsLoopback() {
		host = "localhost"
	}
	return net.JoinHostPort(host, port)
}

func cmdMigrate(e *env, args []string) error {
	fs := e.flags("migrate", "")
	dsn := e.dbFlag(fs)
	if err := fs.Parse(args); err != nil {
		return err
	}
	if _, err := e.open(*dsn, false); err != nil {
		return err
	}
	fmt.Fprintln(e.stdout, "Database is up to date.")
	return nil
}
