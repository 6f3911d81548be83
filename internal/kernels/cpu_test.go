package kernels

import "testing"

// allPaths are the paths there are, pathGo (the reference) first.
var allPaths = [...]path{pathGo, pathAVX2, pathAVX512, pathNEON}

// withPath runs fn with the kernels on path p and reports true, or reports
// false (logging why) when this machine or build cannot run p. Tests that
// use it must not run in parallel: cpu is process-wide.
func withPath(t testing.TB, p path, fn func()) bool {
	t.Helper()
	if !supported(p) {
		t.Logf("skipping the %s path: this CPU (or build) does not support it", p)
		return false
	}
	old := cpu
	cpu = machineFor(p)
	defer func() { cpu = old }()
	fn()
	return true
}

// eachPath runs fn on every path this machine and build support, pathGo
// first.
func eachPath(t testing.TB, fn func(p path)) {
	t.Helper()
	for _, p := range allPaths {
		if supported(p) {
			withPath(t, p, func() { fn(p) })
		}
	}
}
