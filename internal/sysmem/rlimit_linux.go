package sysmem

import "syscall"

// addressSpaceLimit returns RLIMIT_AS (ulimit -v) when it is set (not
// RLIM_INFINITY, which is all ones).
func addressSpaceLimit() (int64, bool) {
	var r syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_AS, &r); err != nil || r.Cur > 1<<62 {
		return 0, false
	}
	return int64(r.Cur), true
}
