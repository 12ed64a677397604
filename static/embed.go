// Package static holds the site's CSS and its own JavaScript. htmx comes
// from npm: `make` copies it into static/vendor/ (not committed).
package static

import "embed"

// FS holds css/, js/ and, once fetched, vendor/.
//
//go:embed *
var FS embed.FS
