package locale

import (
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
)

// usePatterns find message ids in templates and Go code.
var usePatterns = []*regexp.Regexp{
	regexp.MustCompile(`\.T "([a-z0-9_]+)"`),
	regexp.MustCompile(`\.T\("([a-z0-9_]+)"`),
	regexp.MustCompile(`(?:fail|Fail)\(c, [^,]+, "([a-z0-9_]+)"\)`),
	regexp.MustCompile(`return "(password_[a-z_]+)"`),
	regexp.MustCompile(`(?:ID|Msg|MsgID|Label|Verbose|VerbosePlural|Title):\s*"([a-z]+_[a-z0-9_]+)"`),
}

// UsedIDs scans Go and template files under the given directories of root
// for message ids; each id maps to the first file that uses it. Ids built
// at run time (a model's verbose name) are not found.
func UsedIDs(root string, dirs ...string) (map[string]string, error) {
	used := map[string]string{}
	for _, dir := range dirs {
		err := filepath.WalkDir(filepath.Join(root, dir), func(p string, d fs.DirEntry, err error) error {
			if err != nil {
				return err
			}
			if d.IsDir() && (d.Name() == "node_modules" || d.Name() == "testdata") {
				return filepath.SkipDir
			}
			if d.IsDir() || strings.HasSuffix(p, "_test.go") || !(strings.HasSuffix(p, ".go") || strings.HasSuffix(p, ".html")) {
				return nil
			}
			b, err := os.ReadFile(p)
			if err != nil {
				return err
			}
			for _, re := range usePatterns {
				for _, m := range re.FindAllStringSubmatch(string(b), -1) {
					if _, seen := used[m[1]]; !seen {
						used[m[1]] = p
					}
				}
			}
			return nil
		})
		if err != nil && !os.IsNotExist(err) {
			return nil, err
		}
	}
	return used, nil
}

// WriteLanguage writes msgs as one file, <dir>/active.<tag>.toml, in the
// order of ids, with descriptions; translations get the English hash they
// translate so later English changes show as stale.
func WriteLanguage(dir, tag string, ids []string, msgs, en map[string]*Message) error {
	var b strings.Builder
	fmt.Fprintf(&b, "# %s messages. Edit the text after the = signs; keep {{.Placeholders}} as they are.\n", tag)
	fmt.Fprintf(&b, "# Check with: site i18n check %s\n", tag)
	for _, id := range ids {
		m, ok := msgs[id]
		if !ok {
			continue
		}
		fmt.Fprintf(&b, "\n[%s]\n", id)
		desc := m.Description
		if src := en[id]; src != nil {
			desc = src.Description
		}
		fmt.Fprintf(&b, "description = %s\n", strconv.Quote(desc))
		if tag != Source {
			if m.Hash != "" {
				fmt.Fprintf(&b, "hash = %s\n", strconv.Quote(m.Hash))
			} else if src := en[id]; src != nil {
				fmt.Fprintf(&b, "hash = %s\n", strconv.Quote(SourceHash(src)))
			}
		}
		for _, k := range pluralKeys {
			if v, ok := m.Forms[k]; ok {
				fmt.Fprintf(&b, "%s = %s\n", k, strconv.Quote(v))
			}
		}
	}
	return os.WriteFile(filepath.Join(dir, "active."+tag+".toml"), []byte(b.String()), 0o644)
}

// SortedIDs returns the ids of msgs in order.
func SortedIDs(msgs map[string]*Message) []string {
	ids := sortedIDs(msgs)
	sort.Strings(ids)
	return ids
}
