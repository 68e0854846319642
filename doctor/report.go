package doctor

// Status is the outcome of one check or feature.
type Status string

const (
	// OK: present and working.
	OK Status = "ok"
	// Missing: absent or not working. When the item is Required, the
	// basic sandbox cannot run.
	Missing Status = "missing"
	// Warning: works, with a caveat worth knowing, or could not be checked.
	Warning Status = "warning"
)

// Item is one line of the report.
type Item struct {
	Name   string `json:"name"`
	Status Status `json:"status"`
	Reason string `json:"reason"`
	// Required marks what the basic sandbox cannot do without: a Missing
	// required item fails the report.
	Required bool `json:"required,omitempty"`
}

// Report is what Diagnose found: the host's checks, then what they mean for
// each feature.
type Report struct {
	// OK is false when the basic sandbox cannot work here: some required
	// check is missing.
	OK       bool   `json:"ok"`
	Checks   []Item `json:"checks"`
	Features []Item `json:"features"`
}

// Blocking returns the required checks that are missing.
func (r Report) Blocking() []Item {
	var out []Item
	for _, c := range r.Checks {
		if c.Required && c.Status == Missing {
			out = append(out, c)
		}
	}
	return out
}

// find returns the item named name in items.
func find(items []Item, name string) (Item, bool) {
	for _, it := range items {
		if it.Name == name {
			return it, true
		}
	}
	return Item{}, false
}

func ok(name, reason string) Item      { return Item{Name: name, Status: OK, Reason: reason} }
func missing(name, reason string) Item { return Item{Name: name, Status: Missing, Reason: reason} }
func warning(name, reason string) Item { return Item{Name: name, Status: Warning, Reason: reason} }

// required marks it as needed by the basic sandbox.
func required(it Item) Item {
	it.Required = true
	return it
}
