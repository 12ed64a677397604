package locale

import (
	"golang.org/x/text/language"
	"golang.org/x/text/language/display"
)

// nativeName is a language's name in that language ("Deutsch", "עברית").
func nativeName(t language.Tag) string {
	if t == pseudoTag {
		return "Ƥšéûðö"
	}
	if n := display.Self.Name(t); n != "" {
		return n
	}
	return t.String()
}
