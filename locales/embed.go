// Package locales holds the translations: one go-i18n TOML file per
// language, active.<tag>.toml, with English (active.en.toml) the source.
package locales

import "embed"

// FS holds the active.*.toml files.
//
//go:embed *.toml
var FS embed.FS
