package scope

import (
	"bytes"
	"errors"
	"math"
	"strings"
	"testing"
)

func TestParseProperty(t *testing.T) {
	const inf = uint64(math.MaxUint64)
	tests := []struct {
		in       string
		wantName string
		want     uint64
	}{
		{"MemoryMax=1G", "MemoryMax", 1 << 30},
		{"MemoryMax=512", "MemoryMax", 512},
		{"MemoryMax=100K", "MemoryMax", 100 << 10},
		{"MemoryMax=1.5M", "MemoryMax", 3 << 19},
		{"MemoryMax=2T", "MemoryMax", 2 << 40},
		{"MemoryMax=infinity", "MemoryMax", inf},
		{"MemoryHigh=768M", "MemoryHigh", 768 << 20},
		{"MemorySwapMax=0", "MemorySwapMax", 0},
		{"TasksMax=100", "TasksMax", 100},
		{"TasksMax=infinity", "TasksMax", inf},
		{"CPUWeight=50", "CPUWeight", 50},
		{"CPUWeight=10000", "CPUWeight", 10000},
		{"IOWeight=1", "IOWeight", 1},
		{"CPUQuota=50%", "CPUQuotaPerSecUSec", 500000},
		{"CPUQuota=200%", "CPUQuotaPerSecUSec", 2000000},
		{"CPUQuota=0.5%", "CPUQuotaPerSecUSec", 5000},
		{"RuntimeMaxSec=90", "RuntimeMaxUSec", 90e6},
		{"RuntimeMaxSec=30s", "RuntimeMaxUSec", 30e6},
		{"RuntimeMaxSec=5min", "RuntimeMaxUSec", 300e6},
		{"RuntimeMaxSec=1h 30min", "RuntimeMaxUSec", 5400e6},
		{"RuntimeMaxSec=2h30m", "RuntimeMaxUSec", 9000e6},
		{"RuntimeMaxSec=1.5s", "RuntimeMaxUSec", 1.5e6},
		{"RuntimeMaxSec=250ms", "RuntimeMaxUSec", 250e3},
		{"RuntimeMaxSec=10 s", "RuntimeMaxUSec", 10e6},
		{"RuntimeMaxSec=infinity", "RuntimeMaxUSec", inf},
	}
	for _, tt := range tests {
		p, err := ParseProperty(tt.in)
		if err != nil {
			t.Errorf("ParseProperty(%q) = %v", tt.in, err)
			continue
		}
		// systemd rejects any other signature for these ('i' from a Go int).
		if sig := p.Value.Signature().String(); sig != "t" {
			t.Errorf("ParseProperty(%q) signature = %q, want t", tt.in, sig)
		}
		if got, _ := p.Value.Value().(uint64); p.Name != tt.wantName || got != tt.want {
			t.Errorf("ParseProperty(%q) = %s=%v, want %s=%d", tt.in, p.Name, p.Value.Value(), tt.wantName, tt.want)
		}
	}
}

func TestParsePropertyErrors(t *testing.T) {
	tests := []struct {
		in      string
		wantErr error
		mention string // the error must name this, so the user knows what to fix
	}{
		{"MemoryMax", ErrInvalidProperty, "NAME=VALUE"},
		{"=1G", ErrInvalidProperty, "NAME=VALUE"},
		{"MemoryMax=", ErrInvalidProperty, "K, M, G"},
		{"MemoryMax=abc", ErrInvalidProperty, "K, M, G"},
		{"MemoryMax=1GB", ErrInvalidProperty, "K, M, G"},
		{"MemoryMax=-1", ErrInvalidProperty, "MemoryMax"},
		{"MemoryMax=1e9", ErrInvalidProperty, "MemoryMax"},
		{"MemoryMax=99999999E", ErrInvalidProperty, "MemoryMax"},
		{"MemoryMax=NaN", ErrInvalidProperty, "MemoryMax"},
		{"MemoryMax=0x10", ErrInvalidProperty, "MemoryMax"},
		{"MemoryMax=1..2K", ErrInvalidProperty, "MemoryMax"},
		{"CPUQuota=NaN%", ErrInvalidProperty, "CPUQuota"},
		{"TasksMax=-5", ErrInvalidProperty, "TasksMax"},
		{"TasksMax=1.5", ErrInvalidProperty, "count"},
		{"CPUWeight=0", ErrInvalidProperty, "1 to 10000"},
		{"CPUWeight=10001", ErrInvalidProperty, "1 to 10000"},
		{"IOWeight=heavy", ErrInvalidProperty, "IOWeight"},
		{"CPUQuota=50", ErrInvalidProperty, "50%"},
		{"CPUQuota=0%", ErrInvalidProperty, "CPUQuota"},
		{"CPUQuota=-10%", ErrInvalidProperty, "CPUQuota"},
		{"RuntimeMaxSec=5 fortnights", ErrInvalidProperty, "time span"},
		{"RuntimeMaxSec=s", ErrInvalidProperty, "RuntimeMaxSec"},
		{"RuntimeMaxSec=", ErrInvalidProperty, "RuntimeMaxSec"},
		{"Delegate=no", ErrInvalidProperty, "sets Delegate itself"},
		{"Slice=other.slice", ErrInvalidProperty, "sets Slice itself"},
		{"PIDs=1", ErrInvalidProperty, "sets PIDs itself"},
		{"MemoryLimit=1G", ErrUnknownProperty, "MemoryMax"}, // lists the known ones
		{"memorymax=1G", ErrUnknownProperty, "memorymax"},
		{"ExecStart=/bin/sh", ErrUnknownProperty, "ExecStart"},
	}
	for _, tt := range tests {
		p, err := ParseProperty(tt.in)
		if !errors.Is(err, tt.wantErr) {
			t.Errorf("ParseProperty(%q) = %v, %v; want %v", tt.in, p, err, tt.wantErr)
			continue
		}
		if !strings.Contains(err.Error(), tt.mention) {
			t.Errorf("ParseProperty(%q) error %q does not mention %q", tt.in, err, tt.mention)
		}
	}
}

// Each property names the controller that enforces it, so that a caller
// can refuse what this host would accept and not enforce.
func TestPropertyController(t *testing.T) {
	for in, want := range map[string]string{
		"MemoryMax=1G": "memory", "MemorySwapMax=0": "memory", "TasksMax=10": "pids",
		"CPUWeight=100": "cpu", "CPUQuota=50%": "cpu", "IOWeight=10": "io", "RuntimeMaxSec=5": "",
	} {
		p, err := ParseProperty(in)
		if err != nil || p.Controller != want {
			t.Errorf("ParseProperty(%q).Controller = %q (%v), want %q", in, p.Controller, err, want)
		}
	}
}

func TestParseCPUList(t *testing.T) {
	for _, tt := range []struct {
		in   string
		want []byte
		ok   bool
	}{
		{"0", []byte{0x01}, true},
		{"0-3,6", []byte{0x4f}, true},
		{"1 9", []byte{0x02, 0x02}, true},
		{"8-9", []byte{0x00, 0x03}, true},
		{"", nil, false},
		{"3-1", nil, false},
		{"-1", nil, false},
		{"a", nil, false},
		{"8192", nil, false},
	} {
		got, ok := ParseCPUList(tt.in)
		if ok != tt.ok || !bytes.Equal(got, tt.want) {
			t.Errorf("ParseCPUList(%q) = %x, %v; want %x, %v", tt.in, got, ok, tt.want, tt.ok)
		}
	}
	p, err := ParseProperty("AllowedCPUs=0-1")
	if err != nil || p.Name != "AllowedCPUs" || p.Controller != "cpuset" {
		t.Fatalf("ParseProperty(AllowedCPUs=0-1) = %+v, %v; want AllowedCPUs enforced by cpuset", p, err)
	}
	if v, ok := p.Value.Value().([]byte); !ok || !bytes.Equal(v, []byte{0x03}) {
		t.Errorf("AllowedCPUs=0-1 value = %v, want the mask 03", p.Value)
	}
}
