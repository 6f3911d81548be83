package kernels

import "math"

// ConvGeom describes a 2-D convolution or pooling window over NCHW data.
type ConvGeom struct {
	N, C, H, W             int // input batch, channels, height, width
	KH, KW                 int // window
	SH, SW                 int // strides
	PadT, PadB, PadL, PadR int // zero padding
	OH, OW                 int // output height and width
}

// NewConvGeom fills in the output size for the given input, window,
// strides and padding. The result has OH or OW < 1 if the window does not fit.
func NewConvGeom(n, c, h, w, kh, kw, sh, sw, padT, padB, padL, padR int) ConvGeom {
	g := ConvGeom{N: n, C: c, H: h, W: w, KH: kh, KW: kw, SH: sh, SW: sw, PadT: padT, PadB: padB, PadL: padL, PadR: padR}
	g.OH = (h+padT+padB-kh)/sh + 1
	g.OW = (w+padL+padR-kw)/sw + 1
	if h+padT+padB < kh || w+padL+padR < kw {
		g.OH, g.OW = 0, 0
	}
	return g
}

// col2im sets the planes [lo, hi) of dx (N×C×H×W, image-major order) to
// the adjoint of im2col: the sum, over every patch position, of the
// entries of cols (C·KH·KW rows, N·OH·OW columns) read from them.
// Each element of dx takes its terms in the same order, window position
// (i, j) by position, however the rows are added.
func col2im[T Float](g ConvGeom, cols, dx []T, lo, hi int) {
	ohw := g.OH * g.OW
	ld := g.N * ohw
	var (
		termBuf [maxCol2imTerms]col2imTerm
		terms   []col2imTerm
	)
	if _, ok := any(dx).([]float32); ok && cpu.wide && g.SH == 1 && g.SW == 1 && g.KH*g.KW <= maxCol2imTerms {
		terms = termBuf[:0]
	}
	for nc := lo; nc < hi; nc++ {
		n, c := nc/g.C, nc%g.C
		plane := dx[nc*g.H*g.W : (nc+1)*g.H*g.W]
		if terms != nil {
			col2imVector(g, any(cols).([]float32), any(plane).([]float32), n, c, terms)
			continue
		}
		clear(plane)
		for i := 0; i < g.KH; i++ {
			// Output rows whose input row ih = oh·SH + i - PadT is inside.
			oh0 := max(0, -floorDiv(i-g.PadT, g.SH))
			oh1 := min(g.OH, floorDiv(g.H-1+g.PadT-i, g.SH)+1)
			for j := 0; j < g.KW; j++ {
				r := (c*g.KH+i)*g.KW + j
				src := cols[r*ld+n*ohw : r*ld+(n+1)*ohw]
				if g.SW == 1 {
					ow0 := max(0, g.PadL-j)
					ow1 := min(g.OW, g.W+g.PadL-j)
					if oh0 < oh1 && ow0 < ow1 {
						ih0, iw0 := oh0*g.SH+i-g.PadT, ow0+j-g.PadL
						addRows(plane[ih0*g.W+iw0:], g.SH*g.W, src[oh0*g.OW+ow0:], g.OW, oh1-oh0, ow1-ow0)
					}
					continue
				}
				for oh := oh0; oh < oh1; oh++ {
					drow := plane[(oh*g.SH+i-g.PadT)*g.W : (oh*g.SH+i-g.PadT+1)*g.W]
					for ow, v := range src[oh*g.OW : (oh+1)*g.OW] {
						if iw := ow*g.SW + j - g.PadL; iw >= 0 && iw < g.W {
							drow[iw] += v
						}
					}
				}
			}
		}
	}
}

// col2imTerm is one window position's contribution to a plane in
// col2imPlane512: row ih, column iw takes col[off + ih·OW + iw] when
// ihLo <= ih < ihHi and lo <= iw < hi.
type col2imTerm struct{ off, lo, hi, ihLo, ihHi int }

// maxCol2imTerms bounds the window positions col2im vectorises (a 7×7
// window); larger windows take the Go loop.
const maxCol2imTerms = 49

// col2imVector is col2im of plane (n, c) for strides of 1, one AVX-512 pass
// over the plane: each value sums its terms in window order, in a register.
func col2imVector(g ConvGeom, cols, plane []float32, n, c int, terms []col2imTerm) {
	ld := g.N * g.OH * g.OW
	terms = terms[:0]
	for i := 0; i < g.KH; i++ {
		for j := 0; j < g.KW; j++ {
			r := (c*g.KH+i)*g.KW + j
			// row ih reads output row oh = ih + PadT - i, column ow = iw + PadL - j
			terms = append(terms, col2imTerm{
				off:  r*ld + n*g.OH*g.OW + (g.PadT-i)*g.OW + g.PadL - j,
				lo:   max(0, j-g.PadL),
				hi:   min(g.W, g.OW+j-g.PadL),
				ihLo: max(0, i-g.PadT),
				ihHi: min(g.H, g.OH+i-g.PadT),
			})
		}
	}
	_ = cols[len(cols)-1]
	col2imPlane512(&plane[0], g.H, g.W, g.OW, &cols[0], &terms[0], len(terms))
}

// floorDiv is a/b rounded down, for b > 0.
func floorDiv(a, b int) int {
	q := a / b
	if a%b != 0 && a < 0 {
		q--
	}
	return q
}

// addRows adds src[r·lds+c] to dst[r·ldd+c] for r < rows, c < width.
func addRows[T Float](dst []T, ldd int, src []T, lds, rows, width int) {
	_ = dst[(rows-1)*ldd+width-1]
	_ = src[(rows-1)*lds+width-1]
	if d, ok := any(dst).([]float32); ok && cpu.wide {
		addRows512(&d[0], ldd, &any(src).([]float32)[0], lds, rows, width)
		return
	}
	if d, ok := any(dst).([]float32); ok && cpu.x86 {
		addRows256(&d[0], ldd, &any(src).([]float32)[0], lds, rows, width)
		return
	}
	for r := 0; r < rows; r++ {
		d, s := dst[r*ldd:r*ldd+width], src[r*lds:r*lds+width]
		for k, v := range s {
			d[k] += v
		}
	}
}

// MaxPool writes the maximum of each window of x into y and the index of
// that maximum within its input plane into arg (first maximum on ties).
// Windows lie wholly inside the input (no padding).
func MaxPool[T Float](g ConvGeom, x, y []T, arg []int32) {
	if g.KH == 2 && g.KW == 2 && g.SH == 2 && g.SW == 2 {
		maxPool2x2(g, x, y, arg)
		return
	}
	ParallelFor(g.N*g.C, 8, func(lo, hi int) {
		for nc := lo; nc < hi; nc++ {
			plane := x[nc*g.H*g.W : (nc+1)*g.H*g.W]
			out := y[nc*g.OH*g.OW : (nc+1)*g.OH*g.OW]
			idx := arg[nc*g.OH*g.OW : (nc+1)*g.OH*g.OW]
			for oh := 0; oh < g.OH; oh++ {
				for ow := 0; ow < g.OW; ow++ {
					best := T(math.Inf(-1))
					at := int32(-1)
					for i := 0; i < g.KH; i++ {
						r := (oh*g.SH + i) * g.W
						for j := 0; j < g.KW; j++ {
							p := r + ow*g.SW + j
							if v := plane[p]; v > best || at < 0 {
								best, at = v, int32(p)
							}
						}
					}
					out[oh*g.OW+ow] = best
					idx[oh*g.OW+ow] = at
				}
			}
		}
	})
}

// poolIdx holds pool2x2Row512's permutes: the even and the odd columns of
// two vectors of sixteen.
var poolIdx = [2][16]int32{
	{0, 2, 4, 6, 8, 10, 12, 14, 16, 18, 20, 22, 24, 26, 28, 30},
	{1, 3, 5, 7, 9, 11, 13, 15, 17, 19, 21, 23, 25, 27, 29, 31},
}

// maxPool2x2 is MaxPool for 2×2 windows with stride 2, the common case.
func maxPool2x2[T Float](g ConvGeom, x, y []T, arg []int32) {
	ParallelFor(g.N*g.C, 8, func(lo, hi int) {
		for nc := lo; nc < hi; nc++ {
			plane := x[nc*g.H*g.W : (nc+1)*g.H*g.W]
			out := y[nc*g.OH*g.OW : (nc+1)*g.OH*g.OW]
			idx := arg[nc*g.OH*g.OW : (nc+1)*g.OH*g.OW]
			for oh := 0; oh < g.OH; oh++ {
				r0 := 2 * oh * g.W
				top, bot := plane[r0:r0+g.W], plane[r0+g.W:r0+2*g.W]
				o, ix := out[oh*g.OW:(oh+1)*g.OW], idx[oh*g.OW:(oh+1)*g.OW]
				start := 0
				if f, ok := any(top).([]float32); ok && cpu.wide {
					start = g.OW
					b, of := any(bot).([]float32), any(o).([]float32)
					pool2x2Row512(&f[0], &b[0], &of[0], &ix[0], start, int32(r0), int32(g.W), &poolIdx[0][0])
				} else if f, ok := any(top).([]float32); ok && cpu.vector && g.OW >= 4 {
					start = g.OW &^ 3
					b, of := any(bot).([]float32), any(o).([]float32)
					pool2x2Row(&f[0], &b[0], &of[0], &ix[0], start, int32(r0), int32(g.W))
					if last := g.OW - 4; start < g.OW {
						// the last four windows, overlapping ones already
						// done: the same values again, with no scalar tail
						pool2x2Row(&f[2*last], &b[2*last], &of[last], &ix[last], 4, int32(r0+2*last), int32(g.W))
						start = g.OW
					}
				}
				for ow := start; ow < len(o); ow++ {
					c := 2 * ow
					best, at := top[c], r0+c
					if v := top[c+1]; v > best {
						best, at = v, r0+c+1
					}
					if v := bot[c]; v > best {
						best, at = v, r0+g.W+c
					}
					if v := bot[c+1]; v > best {
						best, at = v, r0+g.W+c+1
					}
					o[ow], ix[ow] = best, int32(at)
				}
			}
		}
	})
}

// MaxPoolGrad routes each gradient of dy to the input position that won
// its window: dx = 0, then dx[arg] += dy. If y (the pooled output) is not
// nil, windows whose maximum y is not positive pass nothing: the gradient
// of a ReLU before the pool, folded in. It gives the bits of MaxPoolGrad
// followed by ReLUGrad, since every window routed to a position has that
// position's value as its maximum.
func MaxPoolGrad[T Float](g ConvGeom, dy, y []T, arg []int32, dx []T) {
	ParallelFor(g.N*g.C, 8, func(lo, hi int) {
		for nc := lo; nc < hi; nc++ {
			plane := dx[nc*g.H*g.W : (nc+1)*g.H*g.W]
			clear(plane)
			d := dy[nc*g.OH*g.OW : (nc+1)*g.OH*g.OW]
			if y == nil {
				for k, a := range arg[nc*g.OH*g.OW : (nc+1)*g.OH*g.OW] {
					plane[a] += d[k]
				}
				continue
			}
			m := y[nc*g.OH*g.OW : (nc+1)*g.OH*g.OW]
			args := arg[nc*g.OH*g.OW : (nc+1)*g.OH*g.OW]
			if _, ok := any(d).([]float32); ok {
				maskedScatter32(any(plane).([]float32), any(d).([]float32), any(m).([]float32), args)
				continue
			}
			for k, a := range args {
				if m[k] > 0 {
					plane[a] += d[k]
				}
			}
		}
	})
}

// maskedScatter32 adds d[k] to plane[arg[k]] where m[k] > 0, for a plane
// that started at +0: it adds +0 elsewhere, which changes no value (a sum
// that starts at +0 is never -0), so that the ReLU's mask is taken without
// a branch, through keepPositive, a block at a time.
func maskedScatter32(plane, d, m []float32, arg []int32) {
	var buf [256]float32
	for lo := 0; lo < len(arg); lo += len(buf) {
		hi := min(lo+len(buf), len(arg))
		kept := buf[:hi-lo]
		keepPositive(kept, m[lo:hi], d[lo:hi])
		for k, a := range arg[lo:hi] {
			plane[a] += kept[k]
		}
	}
}

// Mul sets dst[i] = a[i]·b[i].
func Mul[T Float](dst, a, b []T) {
	for i, v := range a {
		dst[i] = v * b[i]
	}
}
