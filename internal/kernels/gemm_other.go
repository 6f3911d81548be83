//go:build !amd64

package kernels

const useAsm = false

const hasAVX512 = false

func kern6x16(k int, a, b, c *float32, ldc int, load bool) { panic("unreachable") }

func kern6x32(k int, a, b *float32, bstep, bnext int, c *float32, ldc int, load bool) {
	panic("unreachable")
}

func kern12x32(k int, a, b *float32, bstep, bnext int, c *float32, ldc int, load bool) {
	panic("unreachable")
}

func adamAVX2(w, gr, m, v *float64, n int, b1, b2, lrc, c2inv, eps float64) { panic("unreachable") }

func adam32AVX2(w, gr *float32, m, v *float64, n int, b1, b2, lrc, c2inv, eps float64) {
	panic("unreachable")
}

func pool2x2Row(top, bot, out *float32, arg *int32, n int, base, w int32) { panic("unreachable") }

func keepPositiveAVX2(dst, x, v *float32, n int) { panic("unreachable") }

func activateAVX2(dst, x *float32, n, mode int, consts *float32) { panic("unreachable") }

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
