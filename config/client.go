package config

import (
	"errors"
	"fmt"
	"io/fs"
	"os"

	"github.com/pelletier/go-toml/v2"
)

// readConfig is os.ReadFile; tests make it fail as a root-only file
// would for a user (tests run as root, whom permissions do not stop).
var readConfig = os.ReadFile

// Client is what a client of the daemon (sdbuild status, list, logs, show,
// cancel, run without --local) takes from the configuration: the socket.
type Client struct {
	Socket string
	// Warnings are problems with the file that did not stop the client:
	// it does not parse, or repeats keys. The daemon reports them itself.
	Warnings []error
	// Unread names the default file when the caller may not read it (a
	// root-only /etc/sdbuild/sdbuild.toml), so an unreachable daemon's
	// error can say the socket may be set there.
	Unread string
}

// LoadClient finds the daemon's socket: --socket in Flags, else
// $SDBUILD_SOCKET, else the file's socket key, else the default (with
// Source.User, the user's own daemon's). Nothing else is read or checked:
// the other keys are the daemon's, and the commands that diagnose a broken
// daemon configuration must not break on it.
func LoadClient(src Source) (*Client, error) {
	env := sdbuildEnv(src.Environ)
	c := &Client{Socket: Defaults().Socket}
	defFile := defaultFile
	if src.User != nil {
		p, err := userPathsOf(src.User, src.Environ)
		if err != nil {
			return nil, err
		}
		c.Socket, defFile = p.socket, p.file
	}
	if v, ok := flagValue(src.Flags, clientKey); ok {
		return c.set(v)
	}
	if v, ok := envValue(env, clientKey); ok {
		return c.set(v)
	}
	path, from, named := configFile(src, env, defFile)
	data, err := readConfig(path)
	switch {
	case err == nil:
	case !named && errors.Is(err, fs.ErrNotExist):
		return c, nil
	case !named && errors.Is(err, fs.ErrPermission):
		c.Unread = path
		return c, nil
	default:
		if from != "" {
			path = fmt.Sprintf("%s (from %s)", path, from)
		}
		return nil, fmt.Errorf("config: read %s: %w", path, err)
	}
	var doc map[string]any
	if err := toml.Unmarshal(data, &doc); err != nil {
		c.Warnings = append(c.Warnings, fmt.Errorf("config: parse %s%s: %w (using socket %s)", path, errorLine(err), err, c.Socket))
		return c, nil
	}
	if err := checkTable("", doc, keyNames()); err != nil {
		c.Warnings = append(c.Warnings, fmt.Errorf("config %s: %w", path, err))
	}
	if raw, ok := doc[clientKey]; ok {
		return c.set(value{raw: raw, from: path})
	}
	return c, nil
}

// set takes the socket from v, which must be an absolute path.
func (c *Client) set(v value) (*Client, error) {
	var cfg Config
	if err := assign(&cfg, keyByName(clientKey), v); err != nil {
		return nil, err
	}
	if rule := pathRule(cfg.Socket); rule != "" {
		return nil, errorf(ErrInvalidValue, "config: socket = %q (from %s): %s", cfg.Socket, v.from, rule)
	}
	c.Socket = cfg.Socket
	return c, nil
}

// keyByName returns the key called name; it panics for an unknown name,
// which is a programming error.
func keyByName(name string) key {
	for _, k := range keys {
		if k.name == name {
			return k
		}
	}
	panic("config: no key " + name)
}
