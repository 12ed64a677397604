package locale

import (
	"golang.org/x/text/language"
	"golang.org/x/text/language/display"
)

// variantNames are the own names of variants that CLDR's self-names get
// wrong for a language menu: sr-Latn is "srpskohrvatski" there, pt-BR
// plain "português", and a menu needs each variant told apart.
var variantNames = map[string]string{
	"sr-Latn": "srpski (latinica)",
	"pt-BR":   "português (Brasil)",
	"pt-PT":   "português (Portugal)",
	"id":      "Bahasa Indonesia",
}

// nativeName is a language's name in that language ("Deutsch", "עברית").
func nativeName(t language.Tag) string {
	if t == pseudoTag {
		return "Ƥšéûðö"
	}
	if n, ok := variantNames[t.String()]; ok {
		return n
	}
	if n := display.Self.Name(t); n != "" {
		return n
	}
	return t.String()
}
