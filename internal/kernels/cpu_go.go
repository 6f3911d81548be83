//go:build purego || !(amd64 || arm64)

package kernels

// supported reports whether this build can run path p: only pathGo, on
// an architecture without assembly loops or with -tags purego.
func supported(p path) bool { return p == pathGo }

// The vector loops never run here (cpu.vector is false); these stand in
// for vector.go's declarations so that the callers compile.

func kern6x16(k int, a, b, c *float32, ldc int, load bool) { panic("unreachable") }

func adamVec(w, gr, m, v *float64, n int, b1, b2, lrc, c2inv, eps float64) { panic("unreachable") }

func adam32Vec(w, gr *float32, m, v *float64, n int, b1, b2, lrc, c2inv, eps float64) {
	panic("unreachable")
}

func pool2x2Row(top, bot, out *float32, arg *int32, n int, base, w int32) { panic("unreachable") }

func keepPositiveVec(dst, x, v *float32, n int) { panic("unreachable") }

func activateVec(dst, x *float32, n, mode int, consts *float32) { panic("unreachable") }
