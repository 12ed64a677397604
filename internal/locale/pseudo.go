package locale

import (
	"io/fs"
	"regexp"
	"strings"

	"github.com/nicksnyder/go-i18n/v2/i18n"
	"golang.org/x/text/language"
)

// Pseudo is the pseudo-locale: English with every letter accented and each
// message a third longer, in brackets. A page in it shows at a glance any
// text that bypassed the catalog (plain ASCII) and any layout that breaks
// with longer text. It is served for ?lang=en-XA and listed in dev mode.
const Pseudo = "en-XA"

var accents = map[rune]rune{
	'a': 'á', 'b': 'ƀ', 'c': 'ç', 'd': 'ð', 'e': 'é', 'f': 'ƒ', 'g': 'ĝ', 'h': 'ĥ', 'i': 'î', 'j': 'ĵ', 'k': 'ķ', 'l': 'ļ', 'm': 'ɱ',
	'n': 'ñ', 'o': 'ö', 'p': 'þ', 'q': 'ǫ', 'r': 'ŕ', 's': 'š', 't': 'ţ', 'u': 'û', 'v': 'ṽ', 'w': 'ŵ', 'x': 'ẋ', 'y': 'ý', 'z': 'ž',
	'A': 'Å', 'B': 'Ɓ', 'C': 'Ç', 'D': 'Ð', 'E': 'É', 'F': 'Ƒ', 'G': 'Ĝ', 'H': 'Ĥ', 'I': 'Î', 'J': 'Ĵ', 'K': 'Ķ', 'L': 'Ļ', 'M': 'Ṁ',
	'N': 'Ñ', 'O': 'Ö', 'P': 'Þ', 'Q': 'Ǫ', 'R': 'Ŕ', 'S': 'Š', 'T': 'Ţ', 'U': 'Û', 'V': 'Ṽ', 'W': 'Ŵ', 'X': 'Ẋ', 'Y': 'Ý', 'Z': 'Ž',
}

var templateAction = regexp.MustCompile(`\{\{[^}]*\}\}`)

// PseudoText accents and lengthens s, leaving template actions intact.
func PseudoText(s string) string {
	if s == "" {
		return s
	}
	var b strings.Builder
	b.WriteString("[")
	last := 0
	letters := 0
	for _, loc := range templateAction.FindAllStringIndex(s, -1) {
		letters += accent(&b, s[last:loc[0]])
		b.WriteString(s[loc[0]:loc[1]])
		last = loc[1]
	}
	letters += accent(&b, s[last:])
	b.WriteString(" ")
	b.WriteString(strings.Repeat("~", max(1, letters/3)))
	b.WriteString("]")
	return b.String()
}

func accent(b *strings.Builder, s string) int {
	n := 0
	for _, r := range s {
		if a, ok := accents[r]; ok {
			r = a
			n++
		}
		b.WriteRune(r)
	}
	return n
}

// pseudoMessages builds the pseudo-locale from the English files.
func pseudoMessages(fsys fs.FS) ([]*i18n.Message, error) {
	en, err := ReadLanguage(fsys, Source)
	if err != nil {
		return nil, err
	}
	out := make([]*i18n.Message, 0, len(en))
	for id, m := range en {
		f := m.Forms
		out = append(out, &i18n.Message{ID: id, Zero: PseudoText(f["zero"]), One: PseudoText(f["one"]), Two: PseudoText(f["two"]),
			Few: PseudoText(f["few"]), Many: PseudoText(f["many"]), Other: PseudoText(f["other"])})
	}
	return out, nil
}

var pseudoTag = language.MustParse(Pseudo)
