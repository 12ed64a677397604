// Package static holds the site's CSS and its own JavaScript, and htmx:
// vendor/htmx.min.js is the exact file of the npm package pinned in
// package-lock.json, committed so the Go module works without npm; CI
// checks it against the lockfile (`make check-htmx`).
package static

import "embed"

// FS holds css/, js/ and vendor/.
//
//go:embed *
var FS embed.FS
