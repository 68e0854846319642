package build

import (
	"sync"
	"time"

	"github.com/sdbuild/sdbuild/api"
)

// Phases times the steps of one build, one after another, by this
// process's clock. It is safe for concurrent use (the daemon's request
// handler, dispatcher and canceller may each end a step); a nil *Phases
// records nothing.
type Phases struct {
	mu   sync.Mutex
	last time.Time   // protected by mu
	list []api.Phase // protected by mu
}

// NewPhases starts timing at start.
func NewPhases(start time.Time) *Phases { return &Phases{last: start} }

// Mark ends the current step, named name, now.
func (p *Phases) Mark(name string) {
	if p == nil {
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	now := time.Now()
	p.list = append(p.list, api.Phase{Name: name, Ms: ms(now.Sub(p.last))})
	p.last = now
}

// Add records a step that ran beside the others and took d.
func (p *Phases) Add(name string, d time.Duration) {
	if p != nil {
		p.mu.Lock()
		defer p.mu.Unlock()
		p.list = append(p.list, api.Phase{Name: name, Ms: ms(d)})
	}
}

// Append adds steps timed elsewhere, then goes on from now.
func (p *Phases) Append(list []api.Phase) {
	if p != nil {
		p.mu.Lock()
		defer p.mu.Unlock()
		p.list = append(p.list, list...)
		p.last = time.Now()
	}
}

// List is the steps so far.
func (p *Phases) List() []api.Phase {
	if p == nil {
		return nil
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	return append([]api.Phase(nil), p.list...)
}

func ms(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }
