package doctor

import (
	"fmt"
	"os"

	"github.com/sdbuild/sdbuild/config"
)

// gatherRunner stats the runner service's build directory and socket.
func gatherRunner(c *config.Config) RunnerFacts {
	var f RunnerFacts
	if c == nil || !c.Runner.Enabled() {
		return f
	}
	if st, err := os.Stat(c.Runner.BuildDir); err != nil {
		f.DirErr = err
	} else {
		f.DirMode = st.Mode()
	}
	if st, err := os.Stat(c.Runner.Socket); err != nil {
		f.SocketErr = err
	} else if st.Mode()&os.ModeSocket == 0 {
		f.SocketErr = fmt.Errorf("not a socket (%v)", st.Mode())
	}
	return f
}
