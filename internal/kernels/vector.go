//go:build !purego && (amd64 || arm64)

package kernels

// The loops of the vector paths: AVX2 (with FMA) on amd64 (*_amd64.s), NEON
// on arm64 (*_arm64.s). Each gives the bits of the Go loop it stands for,
// and kern6x16 those of every vector path's micro-kernel (see cpu.go).

// kern6x16 computes the 6×16 tile C = Ap·Bp (+ C if load) from k packed
// steps (6 values of A, 16 of B each); ldc is C's row stride in elements.
//
//go:noescape
func kern6x16(k int, a, b, c *float32, ldc int, load bool)

// adamVec is AdamUpdate's loop over n (a multiple of 4) elements.
//
//go:noescape
func adamVec(w, gr, m, v *float64, n int, b1, b2, lrc, c2inv, eps float64)

// adam32Vec is AdamUpdate32's loop over n (a multiple of 4) elements.
//
//go:noescape
func adam32Vec(w, gr *float32, m, v *float64, n int, b1, b2, lrc, c2inv, eps float64)

// pool2x2Row is the vector loop of a 2×2, stride-2 max-pool row (n a
// multiple of 4); see pool_amd64.s.
//
//go:noescape
func pool2x2Row(top, bot, out *float32, arg *int32, n int, base, w int32)

// keepPositiveVec is reluMask32's vector loop (n a multiple of 8).
//
//go:noescape
func keepPositiveVec(dst, x, v *float32, n int)

// activateVec applies exp (mode 0), sigmoid (1) or tanh (2) to n (a
// multiple of 8) values, with the constants of expConsts.
//
//go:noescape
func activateVec(dst, x *float32, n, mode int, consts *float32)
