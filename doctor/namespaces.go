package doctor

import (
	"errors"
	"fmt"
	"strings"
	"syscall"

	"github.com/sdbuild/sdbuild/sandbox"
)

// sysctlFile is the /proc/sys file of a dotted sysctl name.
func sysctlFile(knob string) string { return "/proc/sys/" + strings.ReplaceAll(knob, ".", "/") }

// namespaceCheck names the check of namespace kind ns.
func namespaceCheck(ns string) string { return ns + " namespace" }

func checkPrivilege(h *Host) Item {
	if h.EUID == 0 {
		return ok("privilege", "running as root")
	}
	return ok("privilege", fmt.Sprintf("running as uid %d, not root: checking your own daemon (systemctl --user); "+
		"run sudo sdbuild doctor for the system daemon", h.EUID))
}

// checkNamespaces says for each kind whether it can be created: the probe
// decides, the sysctl explains.
func checkNamespaces(h *Host) []Item {
	var out []Item
	for _, ns := range sandbox.Namespaces {
		out = append(out, required(checkNamespace(h, ns.Name, ns.Knob)))
	}
	return out
}

func checkNamespace(h *Host, ns, knob string) Item {
	name := namespaceCheck(ns)
	limit, haveLimit := h.file(sysctlFile(knob))
	fix := fmt.Sprintf("sysctl -w %s=15000 (and in /etc/sysctl.d)", knob)
	err, probed := h.NamespaceErrs[ns]
	switch {
	case haveLimit && limit == "0":
		return missing(name, fmt.Sprintf("%s = 0 forbids %s namespaces; %s", knob, ns, fix))
	case probed && err == nil:
		if haveLimit {
			return ok(name, fmt.Sprintf("created one (%s = %s)", knob, limit))
		}
		return ok(name, "created one")
	case !probed:
		return warning(name, "not probed")
	case errors.Is(err, syscall.ENOSPC) || errors.Is(err, syscall.EUSERS):
		if haveLimit {
			knob += " = " + limit
		}
		return missing(name, fmt.Sprintf("the limit %s is reached (%v); raise it: %s", knob, err, fix))
	case errors.Is(err, syscall.EPERM):
		return missing(name, fmt.Sprintf("not permitted (%v): a security module, seccomp filter or the container this runs in forbids %s namespaces%s",
			err, ns, unprivHint(h, ns)))
	case errors.Is(err, syscall.EINVAL):
		return missing(name, fmt.Sprintf("the kernel does not support %s namespaces (%v): it was built without them", ns, err))
	}
	return missing(name, fmt.Sprintf("cannot create one: %v", err))
}

// unprivHint names the knob that stops an unprivileged caller from creating
// user namespaces, when one does.
func unprivHint(h *Host, ns string) string {
	if h.EUID == 0 || ns != "user" {
		return ""
	}
	for _, k := range sandbox.UserNSKnobs {
		if v, ok := h.file(sysctlFile(k.Name)); ok && v == k.Forbids && !k.Limit {
			return " (" + k.Name + " = " + v + ")"
		}
	}
	return ""
}

// checkUnprivileged reports the distribution knobs that keep unprivileged
// users from creating user namespaces, where the kernel has them. They do
// not bind root, which is what sdbuild builds as.
func checkUnprivileged(h *Host) []Item {
	var out []Item
	for _, k := range sandbox.UserNSKnobs {
		if k.Limit {
			continue // reported with the user namespace (checkNamespaces)
		}
		v, present := h.file(sysctlFile(k.Name))
		switch {
		case !present:
			continue // this kernel has no such knob: nothing restricts
		case v != k.Forbids:
			out = append(out, ok(k.Name, fmt.Sprintf("= %s: unprivileged users may create user namespaces", v)))
		case h.EUID == 0:
			out = append(out, ok(k.Name, fmt.Sprintf("= %s: only privileged processes may create user namespaces; sdbuild creates them as root", v)))
		default:
			// A user's own daemon cannot sandbox anything: it refuses builds.
			out = append(out, required(missing(k.Name, fmt.Sprintf("= %s: only privileged processes may create user namespaces, so your own daemon refuses every build (it never builds unsandboxed); as root: %s, or use the system daemon (sdbuild --system)", v, k.Fix))))
		}
	}
	return out
}
