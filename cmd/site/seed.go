package main

import (
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/gatehouse/gatehouse/cmd/site/library"
)

func cmdSeedDemo(e *env, args []string) error {
	fs := e.flags("seed-demo", "")
	dsn := e.dbFlag(fs)
	books := fs.Int("books", 1000, "number of books to insert (authors ≈ books/20, loans ≈ books/10)")
	seed := fs.Uint64("seed", 1, "random seed: the same seed on the same database gives the same rows")
	quiet := fs.Bool("quiet", false, "no progress bar")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(e.stderr, "site seed-demo: unexpected argument %q (use --books N)\n", fs.Arg(0))
		return errUsage
	}
	if *books < 0 || *books > 100_000_000 {
		return errors.New("--books: give a number from 0 to 100000000")
	}
	s, err := e.open(*dsn, false)
	if err != nil {
		return err
	}
	var bar *progressBar
	if !*quiet {
		bar = newProgressBar(e.stderr)
	}
	start := time.Now()
	opts := library.SeedOptions{Books: *books, Seed: *seed}
	if bar != nil {
		opts.Progress = bar.update
		opts.Phase = bar.phase
	}
	// Ctrl-C stops the load cleanly: the batches committed so far stay,
	// and the dropped indexes are built again.
	ctx, stop := signal.NotifyContext(contextBG(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	st, err := library.Seed(ctx, s.db, opts)
	if bar != nil {
		bar.finish()
	}
	if err != nil {
		return err
	}
	took := time.Since(start)
	rows := st.Authors + st.Books + st.BookTags + st.Loans + st.Tags
	fmt.Fprintf(e.stdout, "Inserted %s books, %s authors, %s tag links, %s loans and %s new tags in %s (%s rows/s; indexes and statistics %s).\n",
		thousands(st.Books), thousands(st.Authors), thousands(st.BookTags), thousands(st.Loans), thousands(st.Tags),
		took.Round(100*time.Millisecond), thousands(int64(float64(rows)/max(took.Seconds(), 1e-3))), st.IndexTime.Round(100*time.Millisecond))
	return nil
}

// progressBar draws "label  42% [=====>     ] 420,000/1,150,000  95,000 rows/s  ETA 7s"
// on one line, redrawn in place with \r at most every 100 ms.
type progressBar struct {
	w     io.Writer
	mu    sync.Mutex
	label string
	start time.Time
	last  time.Time
	done  int64
	total int64
	drawn bool
	now   func() time.Time
}

func newProgressBar(w io.Writer) *progressBar {
	return &progressBar{w: w, start: time.Now(), now: time.Now, label: "seeding"}
}

func (p *progressBar) phase(name string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.label = name
	if name == "indexes" {
		// The row count is complete; say what the wait is for.
		p.drawLocked(true)
		fmt.Fprintf(p.w, "\nbuilding indexes and statistics…")
		p.drawn = true
		p.label = ""
	}
}

func (p *progressBar) update(done, total int64) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.done, p.total = done, total
	p.drawLocked(done >= total)
}

func (p *progressBar) drawLocked(force bool) {
	now := p.now()
	if !force && now.Sub(p.last) < 100*time.Millisecond {
		return
	}
	if p.label == "" || p.total == 0 {
		return
	}
	p.last = now
	frac := float64(p.done) / float64(p.total)
	const width = 30
	filled := int(frac * width)
	bar := strings.Repeat("=", filled)
	if filled < width {
		bar += ">" + strings.Repeat(" ", width-filled-1)
	}
	elapsed := now.Sub(p.start).Seconds()
	rate := float64(p.done) / max(elapsed, 1e-3)
	eta := "--"
	if p.done > 0 && rate > 0 {
		eta = time.Duration(float64(p.total-p.done) / rate * float64(time.Second)).Round(time.Second).String()
	}
	fmt.Fprintf(p.w, "\r%-8s %3d%% [%s] %s/%s rows  %s rows/s  ETA %-6s", p.label, int(frac*100), bar,
		thousands(p.done), thousands(p.total), thousands(int64(rate)), eta)
	p.drawn = true
}

// finish ends the line.
func (p *progressBar) finish() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.drawn {
		fmt.Fprintln(p.w)
	}
}

// thousands formats n with comma separators: 1,000,000.
func thousands(n int64) string {
	s := fmt.Sprint(n)
	neg := strings.HasPrefix(s, "-")
	s = strings.TrimPrefix(s, "-")
	var b strings.Builder
	for i, r := range s {
		if i > 0 && (len(s)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(r)
	}
	if neg {
		return "-" + b.String()
	}
	return b.String()
}
