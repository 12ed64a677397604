package authtest

import (
	"bytes"
	"log/slog"
	"net/url"
	"regexp"
	"strings"
	"sync"
)

// LogSink collects a test site's log lines (set Config.Logger to
// sink.Logger()). The access log line of a request may be written after
// its response reached the client, so every access takes the lock.
type LogSink struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (s *LogSink) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.buf.Write(p)
}

// String is everything logged so far.
func (s *LogSink) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.buf.String()
}

// Logger is a text logger at debug level writing into the sink.
func (s *LogSink) Logger() *slog.Logger {
	return slog.New(slog.NewTextHandler(s, &slog.HandlerOptions{Level: slog.LevelDebug}))
}

var digitsOnly = regexp.MustCompile(`^[0-9]+$`)

// Leaks returns the secrets that appear in log. A numeric code counts only
// as a whole number (not inside a longer one, such as a port or a
// duration); text counts as it is and URL-encoded.
func Leaks(log string, secrets ...string) []string {
	var out []string
	for _, v := range secrets {
		switch {
		case v == "":
		case digitsOnly.MatchString(v):
			if regexp.MustCompile(`(^|[^0-9])` + v + `($|[^0-9])`).MatchString(log) {
				out = append(out, v)
			}
		case strings.Contains(log, v) || strings.Contains(log, url.QueryEscape(v)):
			out = append(out, v)
		}
	}
	return out
}

// CookieValues returns the values of the client's cookies but the
// language choice: session ids, remember cookies.
func (c *Client) CookieValues() []string {
	u, _ := url.Parse(c.app.Server.URL)
	var out []string
	for _, ck := range c.Jar.Cookies(u) {
		if ck.Name != "lang" {
			out = append(out, ck.Value)
		}
	}
	return out
}
