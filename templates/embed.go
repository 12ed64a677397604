// Package templates holds the html/template files of every page. A site
// overlays its own files of the same names through auth.Config.Templates.
package templates

import "embed"

// FS holds the templates: layout.html, partials/, account/ and admin/.
//
//go:embed *.html partials account admin
var FS embed.FS
