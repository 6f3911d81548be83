//go:build !purego

package kernels

import xcpu "golang.org/x/sys/cpu"

// supported reports whether this machine can run path p: on arm64, the
// NEON loops need Advanced SIMD, which every ARMv8-A core has.
func supported(p path) bool {
	switch p {
	case pathGo:
		return true
	case pathNEON:
		return xcpu.ARM64.HasASIMD
	}
	return false
}
