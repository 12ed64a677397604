package main

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/gatehouse/gatehouse/internal/locale"
)

func init() {
	commands["i18n"] = command{"translators' tools: check [LANG...], extract, merge", cmdI18n}
}

func cmdI18n(e *env, args []string) error {
	fs := e.flags("i18n", "check [LANG...] | extract [--prune] | merge")
	dir := fs.String("dir", "locales", "folder of the locale files")
	root := fs.String("root", ".", "source tree that extract scans (templates/, auth/, admin/, cmd/, internal/)")
	prune := fs.Bool("prune", false, "extract: drop English messages nothing uses")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() == 0 {
		fs.Usage()
		return errUsage
	}
	if _, err := os.Stat(*dir); err != nil {
		return fmt.Errorf("--dir %s: %w (run this in the project folder, or pass --dir)", *dir, err)
	}
	switch fs.Arg(0) {
	case "check":
		return i18nCheck(e, *dir, fs.Args()[1:])
	case "extract":
		return i18nExtract(e, *dir, *root, *prune)
	case "merge":
		return i18nMerge(e, *dir)
	}
	fmt.Fprintf(e.stderr, "site i18n: unknown action %q: use check, extract or merge\n", fs.Arg(0))
	return errUsage
}

// i18nCheck prints a report per language and fails on any error.
func i18nCheck(e *env, dir string, tags []string) error {
	fsys := os.DirFS(dir)
	if len(tags) == 0 {
		tags = locale.Tags(fsys)
	}
	failed := 0
	for _, tag := range tags {
		r := locale.Check(fsys, tag)
		state := "ok"
		if !r.OK() {
			state = "ERRORS"
			failed++
		}
		fmt.Fprintf(e.stdout, "%-8s %5.1f%%  %d/%d translated, %d stale  %s\n", tag, r.Percent(), r.Translated, r.Total, len(r.Stale), state)
		for _, err := range r.Errors {
			fmt.Fprintf(e.stdout, "    error: %v\n", err)
		}
		for _, id := range r.Missing {
			fmt.Fprintf(e.stdout, "    missing: %s\n", id)
		}
		for _, id := range r.Unknown {
			fmt.Fprintf(e.stdout, "    not in English (remove it): %s\n", id)
		}
		for _, p := range r.Placeholders {
			fmt.Fprintf(e.stdout, "    placeholders differ: %s\n", p)
		}
		for _, p := range r.Plurals {
			fmt.Fprintf(e.stdout, "    plural forms missing: %s\n", p)
		}
		for _, s := range r.Stale {
			fmt.Fprintf(e.stdout, "    stale: %s — English is now %q; after updating, set hash = %q\n", s.ID, s.English, s.Hash)
		}
	}
	if failed > 0 {
		return fmt.Errorf("%d of %d languages have errors", failed, len(tags))
	}
	return nil
}

// i18nExtract rebuilds the English source from what the code uses: it
// keeps descriptions, adds stubs for new ids and reports unused ones.
func i18nExtract(e *env, dir, root string, prune bool) error {
	used, err := locale.UsedIDs(root, "templates", "auth", "admin", "cmd", "internal")
	if err != nil {
		return err
	}
	en, err := locale.ReadLanguage(os.DirFS(dir), locale.Source)
	if err != nil {
		return err
	}
	added := 0
	for id, where := range used {
		if _, ok := en[id]; !ok {
			en[id] = &locale.Message{ID: id, Description: "TODO: describe where this appears (used in " + filepath.ToSlash(where) + ")", Forms: map[string]string{"other": id}}
			fmt.Fprintf(e.stdout, "added stub: %s (%s)\n", id, where)
			added++
		}
	}
	var unused []string
	for _, id := range locale.SortedIDs(en) {
		if _, ok := used[id]; !ok {
			unused = append(unused, id)
		}
	}
	if prune {
		for _, id := range unused {
			delete(en, id)
		}
	}
	if err := i18nWrite(dir, locale.Source, en, en); err != nil {
		return err
	}
	verb := "kept"
	if prune {
		verb = "removed"
	}
	fmt.Fprintf(e.stdout, "%d messages used, %d stubs added, %d not found in the code (%s; some are built at run time, such as model names): %s\n",
		len(used), added, len(unused), verb, strings.Join(unused, " "))
	return nil
}

// i18nMerge rewrites every language as one active.<tag>.toml file.
func i18nMerge(e *env, dir string) error {
	fsys := os.DirFS(dir)
	en, err := locale.ReadLanguage(fsys, locale.Source)
	if err != nil {
		return err
	}
	for _, tag := range locale.Tags(fsys) {
		msgs, err := locale.ReadLanguage(fsys, tag)
		if err != nil {
			return err
		}
		if err := i18nWrite(dir, tag, msgs, en); err != nil {
			return err
		}
		fmt.Fprintf(e.stdout, "%s: %d messages in active.%s.toml\n", tag, len(msgs), tag)
	}
	return nil
}

// i18nWrite writes one language as a single file and removes its other files.
func i18nWrite(dir, tag string, msgs, en map[string]*locale.Message) error {
	files, _ := filepath.Glob(filepath.Join(dir, "*."+tag+".toml"))
	if err := locale.WriteLanguage(dir, tag, locale.SortedIDs(en), msgs, en); err != nil {
		return err
	}
	var errs []error
	for _, f := range files {
		if filepath.Base(f) != "active."+tag+".toml" {
			errs = append(errs, os.Remove(f))
		}
	}
	return errors.Join(errs...)
}
