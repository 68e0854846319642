package scope

import (
	"errors"
	"testing"

	"github.com/godbus/dbus/v5"
)

func TestSpecValidate(t *testing.T) {
	mem, _ := ParseProperty("MemoryMax=1G")
	ok := Spec{Name: "sdbuild-7.scope", Slice: "sdbuild.slice", PIDs: []uint32{42}, Properties: []Property{mem}}
	tests := []struct {
		name    string
		edit    func(*Spec)
		wantErr error
	}{
		{"valid", func(*Spec) {}, nil},
		{"no slice", func(s *Spec) { s.Slice = "" }, nil},
		{"no pids", func(s *Spec) { s.PIDs = nil }, ErrInvalidSpec},
		{"pid 0", func(s *Spec) { s.PIDs = []uint32{0} }, ErrInvalidSpec},
		{"service name", func(s *Spec) { s.Name = "sdbuild-7.service" }, ErrInvalidSpec},
		{"bare suffix", func(s *Spec) { s.Name = ".scope" }, ErrInvalidSpec},
		{"slash in name", func(s *Spec) { s.Name = "a/b.scope" }, ErrInvalidSpec},
		{"bad slice", func(s *Spec) { s.Slice = "sdbuild" }, ErrInvalidSpec},
		{"reserved property", func(s *Spec) {
			s.Properties = []Property{{Name: "Delegate", Value: dbus.MakeVariant(false)}}
		}, ErrInvalidProperty},
	}
	for _, tt := range tests {
		s := ok
		tt.edit(&s)
		err := s.validate()
		if !errors.Is(err, tt.wantErr) || (tt.wantErr == nil) != (err == nil) {
			t.Errorf("%s: validate() = %v, want %v", tt.name, err, tt.wantErr)
		}
	}
}

// TestSpecDBusProperties checks names and D-Bus signatures: systemd refuses
// a transient unit whose property has the wrong type.
func TestSpecDBusProperties(t *testing.T) {
	tasks, _ := ParseProperty("TasksMax=100")
	s := Spec{Name: "sdbuild-7.scope", Slice: "sdbuild.slice", Description: "build 7", PIDs: []uint32{42, 43}, Properties: []Property{tasks}}
	want := map[string]struct {
		sig   string
		value any
	}{
		"Description": {"s", "build 7"},
		"Delegate":    {"b", true},
		"CollectMode": {"s", "inactive-or-failed"},
		"Slice":       {"s", "sdbuild.slice"},
		"PIDs":        {"au", []uint32{42, 43}},
		"TasksMax":    {"t", uint64(100)},
	}
	got := map[string]bool{}
	for _, p := range s.dbusProperties() {
		w, ok := want[p.Name]
		if !ok {
			t.Errorf("unexpected property %s=%v", p.Name, p.Value)
			continue
		}
		got[p.Name] = true
		if sig := p.Value.Signature().String(); sig != w.sig {
			t.Errorf("property %s has signature %q, want %q", p.Name, sig, w.sig)
		}
		if v := p.Value.String(); v != dbus.MakeVariant(w.value).String() {
			t.Errorf("property %s = %s, want %v", p.Name, v, w.value)
		}
	}
	for name := range want {
		if !got[name] {
			t.Errorf("property %s missing", name)
		}
	}
}
