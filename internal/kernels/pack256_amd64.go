//go:build !purego

package kernels

// The AVX2 path's packing loops (pack256_amd64.s): they run where cpu.x86
// is set and no AVX-512 loop takes their place.

// transpose16x256 sets dst[p·16+l] = rows[l][p] for p < n, a multiple of 8.
//
//go:noescape
func transpose16x256(dst *float32, rows *[16]*float32, n int)

// interleave6x256 sets dst[p·6+i] = rows[i][p] for p < n, a multiple of 8.
//
//go:noescape
func interleave6x256(dst *float32, rows *[6]*float32, n int)

// panels256 copies src[16j : 16j+16] to dst[j·stride:] for j < panels.
//
//go:noescape
func panels256(dst *float32, stride int, src *float32, panels int)

// rowsToPanel256 copies src[p·lds : p·lds+16] to dst[p·16:] for p < kb.
//
//go:noescape
func rowsToPanel256(dst, src *float32, lds, kb int)

// biasReLU256 sets dst[i] = src[i] + b, then ReLU if relu, for i < n.
//
//go:noescape
func biasReLU256(dst, src *float32, n int, b float32, relu bool)

// addRows256 adds src[r·lds+c] to dst[r·ldd+c] for r < rows, c < width.
//
//go:noescape
func addRows256(dst *float32, ldd int, src *float32, lds, rows, width int)

// gather256 sets dst[i] = src[idx[i]] where idx[i] >= 0, else 0, for
// i < n (a multiple of 8), with AVX2 gathers; every idx[i] must index src.
//
//go:noescape
func gather256(dst, src *float32, idx *int32, n int)

// gatherRuns256 is gatherRuns's loop while eight values or more are left;
// it returns how many values it set (all but fewer than eight).
//
//go:noescape
func gatherRuns256(dst, src *float32, idx, runs *int32, n int) int
