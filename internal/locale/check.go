package locale

import (
	"crypto/sha1"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"regexp"
	"sort"
	"strings"

	"github.com/BurntSushi/toml"
	"github.com/nicksnyder/go-i18n/v2/i18n"
	"golang.org/x/text/language"
)

// Message is one message of a locale file as translators write it.
type Message struct {
	ID          string
	Description string
	Hash        string            // sha1 of the English description and "other" it translates
	Forms       map[string]string // zero, one, two, few, many, other
	File        string
}

var pluralKeys = []string{"zero", "one", "two", "few", "many", "other"}

// ReadLanguage reads every <name>.<tag>.toml file of one language. TOML
// errors name the file and line.
func ReadLanguage(fsys fs.FS, tag string) (map[string]*Message, error) {
	files, err := fs.Glob(fsys, "*."+tag+".toml")
	if err != nil {
		return nil, err
	}
	out := map[string]*Message{}
	var errs []error
	for _, f := range files {
		raw := map[string]map[string]any{}
		b, err := fs.ReadFile(fsys, f)
		if err != nil {
			return nil, err
		}
		if _, err := toml.Decode(string(b), &raw); err != nil {
			var pe toml.ParseError
			if errors.As(err, &pe) {
				errs = append(errs, fmt.Errorf("%s:%d: %s", f, pe.Position.Line, pe.Message))
			} else {
				errs = append(errs, fmt.Errorf("%s: %v", f, err))
			}
			continue
		}
		for id, fields := range raw {
			m := &Message{ID: id, Forms: map[string]string{}, File: f}
			for k, v := range fields {
				s, ok := v.(string)
				if !ok {
					errs = append(errs, fmt.Errorf("%s: %s.%s is not a string", f, id, k))
					continue
				}
				switch k {
				case "description":
					m.Description = s
				case "hash":
					m.Hash = s
				default:
					m.Forms[k] = s
				}
			}
			if _, dup := out[id]; dup {
				errs = append(errs, fmt.Errorf("%s: %s is defined twice", f, id))
			}
			out[id] = m
		}
	}
	return out, errors.Join(errs...)
}

// SourceHash is go-i18n's hash of an English message: what a translation's
// hash must equal to be current.
func SourceHash(m *Message) string {
	h := sha1.New()
	_, _ = io.WriteString(h, m.Description)
	_, _ = io.WriteString(h, m.Forms["other"])
	return fmt.Sprintf("sha1-%x", h.Sum(nil))
}

var placeholderRE = regexp.MustCompile(`\{\{\s*\.(\w+)\s*\}\}`)

func placeholderSet(s string) string {
	set := map[string]bool{}
	for _, p := range placeholderRE.FindAllStringSubmatch(s, -1) {
		set[p[1]] = true
	}
	out := make([]string, 0, len(set))
	for p := range set {
		out = append(out, p)
	}
	sort.Strings(out)
	return strings.Join(out, ",")
}

// PluralCategories returns the CLDR categories go-i18n asks of a language,
// found by asking it for many counts.
func PluralCategories(tag string) []string {
	t, err := language.Parse(tag)
	if err != nil {
		return []string{"other"}
	}
	b := i18n.NewBundle(t)
	m := &i18n.Message{ID: "x", Zero: "zero", One: "one", Two: "two", Few: "few", Many: "many", Other: "other"}
	b.MustAddMessages(t, m)
	loc := i18n.NewLocalizer(b, tag)
	seen := map[string]bool{}
	for _, n := range []any{0, 1, 2, 3, 4, 5, 6, 7, 10, 11, 12, 13, 14, 19, 20, 21, 22, 25, 100, 101, 102, 103, 111, 1000, 1000000, "0.5", "1.5", "2.5"} {
		if s, err := loc.Localize(&i18n.LocalizeConfig{MessageID: "x", PluralCount: n}); err == nil {
			seen[s] = true
		}
	}
	var out []string
	for _, k := range pluralKeys {
		if seen[k] {
			out = append(out, k)
		}
	}
	return out
}

// Report is the state of one language against English.
type Report struct {
	Tag          string
	Total        int // English messages
	Translated   int
	Missing      []string
	Stale        []Stale
	Unknown      []string // in the language, not in English
	Placeholders []string // id: what differs
	Plurals      []string // id: categories missing
	Errors       []error  // TOML and structure errors
}

// Stale is a translation of an older English text.
type Stale struct{ ID, English, Hash string }

// Percent is the share of English messages translated.
func (r *Report) Percent() float64 {
	if r.Total == 0 {
		return 100
	}
	return 100 * float64(r.Translated) / float64(r.Total)
}

// OK reports whether the language has no errors (stale messages are warnings).
func (r *Report) OK() bool {
	return len(r.Missing) == 0 && len(r.Unknown) == 0 && len(r.Placeholders) == 0 && len(r.Plurals) == 0 && len(r.Errors) == 0
}

// Check compares a language with English.
func Check(fsys fs.FS, tag string) *Report {
	r := &Report{Tag: tag}
	en, err := ReadLanguage(fsys, Source)
	if err != nil {
		r.Errors = append(r.Errors, err)
	}
	lang, err := ReadLanguage(fsys, tag)
	if err != nil {
		r.Errors = append(r.Errors, err)
	}
	cats := PluralCategories(tag)
	r.Total = len(en)
	for _, id := range sortedIDs(en) {
		src := en[id]
		if tag == Source && src.Description == "" {
			r.Errors = append(r.Errors, fmt.Errorf("%s: %s has no description for translators", src.File, id))
		}
		m, ok := lang[id]
		if !ok || m.Forms["other"] == "" {
			r.Missing = append(r.Missing, id)
			continue
		}
		r.Translated++
		// Every form may use only placeholders English has (an unknown one
		// renders "<no value>"); "other" must keep all of English "other"'s.
		// Singular and dual forms may spell the number out.
		all := placeholderSet(src.Forms["other"] + src.Forms["one"])
		for form, text := range m.Forms {
			if !isPluralKey(form) {
				r.Errors = append(r.Errors, fmt.Errorf("%s: %s has an unknown key %q", m.File, id, form))
				continue
			}
			got := placeholderSet(text)
			if !subset(got, all) || (form == "other" && !subset(placeholderSet(src.Forms["other"]), got)) {
				r.Placeholders = append(r.Placeholders, fmt.Sprintf("%s (%s): has {%s}, English has {%s}", id, form, got, all))
			}
		}
		if _, plural := src.Forms["one"]; plural {
			var missing []string
			for _, c := range cats {
				if m.Forms[c] == "" {
					missing = append(missing, c)
				}
			}
			if len(missing) > 0 {
				r.Plurals = append(r.Plurals, fmt.Sprintf("%s: lacks %s", id, strings.Join(missing, ", ")))
			}
		}
		if tag != Source && m.Hash != "" && m.Hash != SourceHash(src) {
			r.Stale = append(r.Stale, Stale{ID: id, English: src.Forms["other"], Hash: SourceHash(src)})
		}
	}
	for _, id := range sortedIDs(lang) {
		if _, ok := en[id]; !ok {
			r.Unknown = append(r.Unknown, id)
		}
	}
	return r
}

// subset reports whether the comma list a is within b: a "one" form may
// spell out the count ("one book") instead of {{.Count}}.
func subset(a, b string) bool {
	if a == "" {
		return true
	}
	for _, p := range strings.Split(a, ",") {
		if !strings.Contains(","+b+",", ","+p+",") {
			return false
		}
	}
	return true
}

func isPluralKey(k string) bool {
	for _, p := range pluralKeys {
		if k == p {
			return true
		}
	}
	return false
}

func sortedIDs(m map[string]*Message) []string {
	out := make([]string, 0, len(m))
	for id := range m {
		out = append(out, id)
	}
	sort.Strings(out)
	return out
}

// Tags lists the languages that have locale files.
func Tags(fsys fs.FS) []string {
	files, _ := fs.Glob(fsys, "*.*.toml")
	set := map[string]bool{}
	for _, f := range files {
		parts := strings.Split(strings.TrimSuffix(f, ".toml"), ".")
		set[parts[len(parts)-1]] = true
	}
	var out []string
	for t := range set {
		out = append(out, t)
	}
	sort.Strings(out)
	return out
}
