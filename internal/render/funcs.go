package render

import (
	"html/template"
	"maps"
)

// AddFuncs adds template functions for the pages parsed from now on (the
// phone method's format_phone_number, ...). Call it before serving. A
// template that uses a function parses only where it was added, so the
// project's own templates never use these: they are for a site's own.
func (r *Renderer) AddFuncs(fm template.FuncMap) {
	r.mu.Lock()
	defer r.mu.Unlock()
	merged := make(template.FuncMap, len(r.funcs)+len(fm))
	maps.Copy(merged, r.funcs)
	maps.Copy(merged, fm)
	r.funcs = merged
	clear(r.sets)
}
