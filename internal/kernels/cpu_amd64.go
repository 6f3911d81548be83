//go:build !purego

package kernels

import xcpu "golang.org/x/sys/cpu"

// supported reports whether this machine can run path p: on amd64, the
// AVX2 loops need AVX2 and FMA, the AVX-512 ones AVX-512 F as well
// (x/sys/cpu checks that the OS saves the ZMM state too).
func supported(p path) bool {
	avx2 := xcpu.X86.HasAVX2 && xcpu.X86.HasFMA
	switch p {
	case pathGo:
		return true
	case pathAVX2:
		return avx2
	case pathAVX512:
		return avx2 && xcpu.X86.HasAVX512F
	}
	return false
}

// The AVX-512 loops of pathAVX512.

// kern6x32 and kern12x32 compute the 6×32 and 12×32 tiles C = Ap·B (+ C
// if load) with AVX-512 from one or two adjacent packed A panels and 32
// columns of B per step: the values of step p at b + p·bstep bytes, their
// second 16 bnext bytes past the first (two packed B panels: bstep 64,
// bnext 64·k; a row-major B read in place: bstep 4·ldb, bnext 64). Each
// 6×16 part is computed bit for bit as kern6x16 would; see gemm512_amd64.s.
//
//go:noescape
func kern6x32(k int, a, b *float32, bstep, bnext int, c *float32, ldc int, load bool)

//go:noescape
func kern12x32(k int, a, b *float32, bstep, bnext int, c *float32, ldc int, load bool)

// gather512 sets dst[i] = src[idx[i]] where idx[i] >= 0, else 0, for
// i < n, with AVX-512 gathers; every idx[i] must index src.
//
//go:noescape
func gather512(dst, src *float32, idx *int32, n int)

// panels512 copies src[16j : 16j+16] to dst[j·stride:] for j < panels.
//
//go:noescape
func panels512(dst *float32, stride int, src *float32, panels int)

// biasReLU512 sets dst[i] = src[i] + b, then ReLU if relu, for i < n.
//
//go:noescape
func biasReLU512(dst, src *float32, n int, b float32, relu bool)

// transpose16x512 sets dst[p·16+l] = rows[l][p] for p < n, a multiple of 16.
//
//go:noescape
func transpose16x512(dst *float32, rows *[16]*float32, n int)

// addRows512 adds src[r·lds+c] to dst[r·ldd+c] for r < rows, c < width.
//
//go:noescape
func addRows512(dst *float32, ldd int, src *float32, lds, rows, width int)

// bnForward512 is BatchNormForward's loop over n (a multiple of 8) values.
//
//go:noescape
func bnForward512(y, x *float32, n int, scale, shift float64)

// bnInputGrad512 is BatchNormInputGrad's loop over n (a multiple of 8)
// values.
//
//go:noescape
func bnInputGrad512(dx, x, dy *float32, n int, mean, invstd, k, md, mdx float64)

// col2imPlane512 is col2im's loop over one plane for stride 1; see
// col2imTerm and gather512_amd64.s.
//
//go:noescape
func col2imPlane512(dst *float32, h, w, ow int, col *float32, terms *col2imTerm, nterms int)

// rowsToPanel512 copies src[p·lds : p·lds+16] to dst[p·16:] for p < kb.
//
//go:noescape
func rowsToPanel512(dst, src *float32, lds, kb int)

// activate512 is activateVec sixteen values at a time (n a multiple of
// 16), with the same operations, so the same bits.
//
//go:noescape
func activate512(dst, x *float32, n, mode int, consts *float32)

// gemv512 sets c[j] = Σ_p a[p]·b[p·ldb+j] (+ c[j] if load) for j < n and
// p < k, each element summed as kern6x16 sums it.
//
//go:noescape
func gemv512(k int, a, b *float32, ldb int, c *float32, n int, load bool)

// interleave6x512 sets dst[p·6+i] = rows[i][p] for p < n (a multiple of
// 16), with the permute tables of interleave6Tables.
//
//go:noescape
func interleave6x512(dst *float32, rows *[6]*float32, n int, idx *int32, masks *uint16)

// pool2x2Row512 is pool2x2Row for any n, sixteen outputs at a time with
// AVX-512 (the last chunk masked); idx is poolIdx.
//
//go:noescape
func pool2x2Row512(top, bot, out *float32, arg *int32, n int, base, w int32, idx *int32)
