package doctor

// Diagnose judges the facts in h. It reads nothing itself.
func Diagnose(h *Host) Report {
	var checks []Item
	checks = append(checks, checkPrivilege(h))
	checks = append(checks, checkNamespaces(h)...)
	checks = append(checks, checkInit(h))
	checks = append(checks, checkUnprivileged(h)...)
	checks = append(checks, checkIDRange(h)...)
	checks = append(checks, checkQuarantine(h)...)
	checks = append(checks, checkLinger(h)...)
	checks = append(checks, checkSystemd(h)...)
	checks = append(checks, checkCgroup(h)...)
	checks = append(checks, checkControllers(h)...)
	checks = append(checks, checkRunner(h)...)
	r := Report{Checks: checks, Features: checkFeatures(h, checks)}
	r.OK = len(r.Blocking()) == 0
	return r
}
