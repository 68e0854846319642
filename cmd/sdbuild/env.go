package main

import (
	"bufio"
	"fmt"
	"os"
	"path/filepath"
	"strings"
)

// buildEnv is the build's environment from --env-file FILEs, then -e
// entries (a later entry for a name wins in the sandbox). An entry
// without "=" passes the caller's value through, as podman run -e NAME
// does, and is dropped when the caller has none.
func buildEnv(files, entries []string, lookup func(string) (string, bool)) ([]string, error) {
	var env []string
	add := func(e, from string) error {
		name, _, hasValue := strings.Cut(e, "=")
		if name == "" {
			return fmt.Errorf("%s %q: want NAME=VALUE or NAME", from, e)
		}
		if hasValue {
			env = append(env, e)
		} else if v, ok := lookup(name); ok {
			env = append(env, name+"="+v)
		}
		return nil
	}
	for _, f := range files {
		lines, err := readEnvFile(f)
		if err != nil {
			return nil, err
		}
		for _, l := range lines {
			if err := add(l.text, fmt.Sprintf("env file %s line %d:", f, l.n)); err != nil {
				return nil, err
			}
		}
	}
	for _, e := range entries {
		if err := add(e, "--env"); err != nil {
			return nil, err
		}
	}
	return env, nil
}

type envLine struct {
	n    int
	text string
}

// readEnvFile reads NAME=VALUE lines; blank lines and lines starting with
// "#" are skipped. Values are taken as they are, without quotes removed
// or variables expanded, as podman's and systemd's EnvironmentFile= plain
// lines are.
func readEnvFile(path string) ([]envLine, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("env file: %w", err)
	}
	defer f.Close()
	var lines []envLine
	sc := bufio.NewScanner(f)
	for n := 1; sc.Scan(); n++ {
		t := strings.TrimLeft(sc.Text(), " \t")
		if t == "" || strings.HasPrefix(t, "#") {
			continue
		}
		lines = append(lines, envLine{n, t})
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("env file %s: %w", path, err)
	}
	return lines, nil
}

// resolveInputs makes each input's relative HOST path absolute from cwd,
// as -o is; SANDBOX defaults to the resolved HOST path.
func resolveInputs(inputs []string, cwd string) []string {
	out := make([]string, len(inputs))
	for i, in := range inputs {
		host, sb, hasSandbox := strings.Cut(in, ":")
		if host != "" && !filepath.IsAbs(host) {
			host = filepath.Join(cwd, host)
		}
		out[i] = host
		if hasSandbox {
			out[i] += ":" + sb
		}
	}
	return out
}

// absOutput makes --output absolute: the daemon does not know the
// client's working directory.
func absOutput(out string) (string, error) {
	if out == "" {
		return "", nil
	}
	abs, err := filepath.Abs(out)
	if err != nil {
		return "", fmt.Errorf("output %s: %w", out, err)
	}
	return abs, nil
}
