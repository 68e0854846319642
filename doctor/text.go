package doctor

import (
	"fmt"
	"io"
	"strings"
)

// WriteText prints r for people: checks, then features, in columns aligned
// across both tables, then one line saying whether builds can run.
func WriteText(w io.Writer, r Report) error {
	nameW, statusW := len("FEATURE"), len("STATUS")
	for _, it := range append(append([]Item(nil), r.Checks...), r.Features...) {
		nameW, statusW = max(nameW, len(it.Name)), max(statusW, len(it.Status))
	}
	var b strings.Builder
	row := func(name, status, reason string) {
		fmt.Fprintf(&b, "%-*s  %-*s  %s\n", nameW, name, statusW, status, reason)
	}
	row("CHECK", "STATUS", "REASON")
	for _, c := range r.Checks {
		row(c.Name, string(c.Status), c.Reason)
	}
	b.WriteString("\n")
	row("FEATURE", "STATUS", "REASON")
	for _, f := range r.Features {
		row(f.Name, string(f.Status), f.Reason)
	}
	b.WriteString("\n" + Summary(r) + "\n")
	_, err := io.WriteString(w, b.String())
	return err
}

// Summary is one line saying whether the basic sandbox can run and, if not,
// which checks stop it.
func Summary(r Report) string {
	blocking := r.Blocking()
	if len(blocking) == 0 {
		return "sdbuild's sandbox can run here."
	}
	names := make([]string, len(blocking))
	for i, c := range blocking {
		names[i] = c.Name
	}
	return "sdbuild's sandbox cannot run here; missing: " + strings.Join(names, ", ")
}
