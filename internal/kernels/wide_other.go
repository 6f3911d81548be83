//go:build purego || !amd64

package kernels

// The AVX-512 loops never run here (cpu.wide is false); these stand in for
// cpu_amd64.go's declarations so that the callers compile.

func kern6x32(k int, a, b *float32, bstep, bnext int, c *float32, ldc int, load bool) {
	panic("unreachable")
}

func kern12x32(k int, a, b *float32, bstep, bnext int, c *float32, ldc int, load bool) {
	panic("unreachable")
}

func gather512(dst, src *float32, idx *int32, n int) { panic("unreachable") }

func panels512(dst *float32, stride int, src *float32, panels int) { panic("unreachable") }

func biasReLU512(dst, src *float32, n int, b float32, relu bool) { panic("unreachable") }

func transpose16x512(dst *float32, rows *[16]*float32, n int) { panic("unreachable") }

func addRows512(dst *float32, ldd int, src *float32, lds, rows, width int) { panic("unreachable") }

func bnForward512(y, x *float32, n int, scale, shift float64) { panic("unreachable") }

func bnInputGrad512(dx, x, dy *float32, n int, mean, invstd, k, md, mdx float64) {
	panic("unreachable")
}

func col2imPlane512(dst *float32, h, w, ow int, col *float32, terms *col2imTerm, nterms int) {
	panic("unreachable")
}

func rowsToPanel512(dst, src *float32, lds, kb int) { panic("unreachable") }

func activate512(dst, x *float32, n, mode int, consts *float32) { panic("unreachable") }

func gemv512(k int, a, b *float32, ldb int, c *float32, n int, load bool) { panic("unreachable") }

func interleave6x512(dst *float32, rows *[6]*float32, n int, idx *int32, masks *uint16) {
	panic("unreachable")
}

func pool2x2Row512(top, bot, out *float32, arg *int32, n int, base, w int32, idx *int32) {
	panic("unreachable")
}
