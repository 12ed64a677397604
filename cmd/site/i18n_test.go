package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestI18nCheck(t *testing.T) {
	dir := t.TempDir()
	write := func(name, body string) {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write("active.en.toml", `
[hello]
description = "Greeting. {{.Name}} is a person."
other = "Hello {{.Name}}"

[books]
description = "Count of books."
one = "{{.Count}} book"
other = "{{.Count}} books"
`)
	write("active.pl.toml", `
[hello]
hash = "sha1-0000"
other = "Cześć {{.Imie}}"

[books]
one = "{{.Count}} książka"
other = "{{.Count}} książek"

[old]
other = "x"
`)
	write("active.de.toml", "[hello]\nother = \"Hallo {{.Name}}\n")
	cases := []struct {
		args []string
		code int
		want []string
	}{
		{[]string{"check", "en"}, 0, []string{"en", "100.0%"}},
		{[]string{"check", "pl"}, 1, []string{"placeholders differ: hello", "plural forms missing: books: lacks few, many", "not in English (remove it): old", "stale: hello"}},
		{[]string{"check", "de"}, 1, []string{"active.de.toml:2: strings cannot contain newlines"}},
	}
	for _, tc := range cases {
		var out, errOut bytes.Buffer
		e := &env{stdin: strings.NewReader(""), stdout: &out, stderr: &errOut, getenv: func(string) string { return "" }}
		code := run(e, append([]string{"i18n", "--dir", dir}, tc.args...))
		if code != tc.code {
			t.Errorf("%v: exit %d, want %d\n%s%s", tc.args, code, tc.code, out.String(), errOut.String())
		}
		for _, w := range tc.want {
			if !strings.Contains(out.String(), w) {
				t.Errorf("%v: report lacks %q:\n%s", tc.args, w, out.String())
			}
		}
	}
}
