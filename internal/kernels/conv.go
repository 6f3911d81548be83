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

// Im2col writes the patches of x (N×C×H×W) into cols, a matrix of
// C·KH·KW rows and N·OH·OW columns: row (c, i, j), column (n, oh, ow)
// holds x[n, c, oh·SH+i-PadT, ow·SW+j-PadL], or 0 in the padding.
func Im2col[T Float](g ConvGeom, x, cols []T) {
	ohw := g.OH * g.OW
	ld := g.N * ohw
	ParallelFor(g.C*g.KH*g.KW, 4, func(lo, hi int) {
		for r := lo; r < hi; r++ {
			c, i, j := r/(g.KH*g.KW), (r/g.KW)%g.KH, r%g.KW
			row := cols[r*ld : (r+1)*ld]
			for n := 0; n < g.N; n++ {
				plane := x[(n*g.C+c)*g.H*g.W : (n*g.C+c+1)*g.H*g.W]
				out := row[n*ohw : (n+1)*ohw]
				for oh := 0; oh < g.OH; oh++ {
					ih := oh*g.SH + i - g.PadT
					o := out[oh*g.OW : (oh+1)*g.OW]
					if ih < 0 || ih >= g.H {
						clear(o)
						continue
					}
					src := plane[ih*g.W : (ih+1)*g.W]
					if g.SW == 1 && g.PadL == 0 && g.PadR == 0 {
						copy(o, src[j:j+g.OW])
						continue
					}
					for ow := range o {
						iw := ow*g.SW + j - g.PadL
						if iw < 0 || iw >= g.W {
							o[ow] = 0
						} else {
							o[ow] = src[iw]
						}
					}
				}
			}
		}
	})
}

// Col2im is the adjoint of Im2col: it sets dx (N×C×H×W) to the sum, over
// every patch position, of the entries of cols that Im2col read from it.
func Col2im[T Float](g ConvGeom, cols, dx []T) {
	ohw := g.OH * g.OW
	ld := g.N * ohw
	ParallelFor(g.N*g.C, 1, func(lo, hi int) {
		for nc := lo; nc < hi; nc++ {
			n, c := nc/g.C, nc%g.C
			plane := dx[nc*g.H*g.W : (nc+1)*g.H*g.W]
			clear(plane)
			for i := 0; i < g.KH; i++ {
				for j := 0; j < g.KW; j++ {
					r := (c*g.KH+i)*g.KW + j
					src := cols[r*ld+n*ohw : r*ld+(n+1)*ohw]
					for oh := 0; oh < g.OH; oh++ {
						ih := oh*g.SH + i - g.PadT
						if ih < 0 || ih >= g.H {
							continue
						}
						drow := plane[ih*g.W : (ih+1)*g.W]
						s := src[oh*g.OW : (oh+1)*g.OW]
						if g.SW == 1 && g.PadL == 0 && g.PadR == 0 {
							d := drow[j : j+g.OW]
							for ow, v := range s {
								d[ow] += v
							}
							continue
						}
						for ow, v := range s {
							iw := ow*g.SW + j - g.PadL
							if iw >= 0 && iw < g.W {
								drow[iw] += v
							}
						}
					}
				}
			}
		}
	})
}

// ChannelsToNCHW turns y (OC × N·P, as a convolution's matrix product
// gives it) into out (N × OC × P), adding bias[oc] if bias is not nil and
// then applying ReLU if relu is set.
func ChannelsToNCHW[T Float](y []T, n, oc, p int, bias []T, relu bool, out []T) {
	ParallelFor(n, 1, func(lo, hi int) {
		for i := lo; i < hi; i++ {
			for c := 0; c < oc; c++ {
				src := y[c*n*p+i*p : c*n*p+(i+1)*p]
				dst := out[(i*oc+c)*p : (i*oc+c+1)*p]
				var b T
				if bias != nil {
					b = bias[c]
				}
				switch {
				case relu:
					for k, v := range src {
						dst[k] = v + b
					}
					keepPositive(dst, dst, dst)
				case bias != nil:
					for k, v := range src {
						dst[k] = v + b
					}
				default:
					copy(dst, src)
				}
			}
		}
	})
}

// NCHWToChannels is the inverse layout change: out (OC × N·P) from dy
// (N × OC × P). If y is not nil (the output of a fused ReLU), gradients
// where y is not positive become 0.
func NCHWToChannels[T Float](dy, y []T, n, oc, p int, out []T) {
	ParallelFor(oc, 1, func(lo, hi int) {
		for c := lo; c < hi; c++ {
			for i := 0; i < n; i++ {
				dst, src := out[c*n*p+i*p:c*n*p+(i+1)*p], dy[(i*oc+c)*p:(i*oc+c+1)*p]
				if y == nil {
					copy(dst, src)
					continue
				}
				keepPositive(dst, y[(i*oc+c)*p:(i*oc+c+1)*p], src)
			}
		}
	})
}

// RowSums sets s[r] = Σ_j m[r, j] for m of len(s) rows.
func RowSums[T Float](m []T, s []T) {
	cols := len(m) / len(s)
	for r := range s {
		var acc T
		for _, v := range m[r*cols : (r+1)*cols] {
			acc += v
		}
		s[r] = acc
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
				if f, ok := any(top).([]float32); ok && useAsm && g.OW >= 4 {
					start = g.OW &^ 3
					b, of := any(bot).([]float32), any(o).([]float32)
					pool2x2Row(&f[0], &b[0], &of[0], &ix[0], start, int32(r0), int32(g.W))
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
// its window: dx = 0, then dx[arg] += dy.
func MaxPoolGrad[T Float](g ConvGeom, dy []T, arg []int32, dx []T) {
	ParallelFor(g.N*g.C, 8, func(lo, hi int) {
		for nc := lo; nc < hi; nc++ {
			plane := dx[nc*g.H*g.W : (nc+1)*g.H*g.W]
			clear(plane)
			d := dy[nc*g.OH*g.OW : (nc+1)*g.OH*g.OW]
			for k, a := range arg[nc*g.OH*g.OW : (nc+1)*g.OH*g.OW] {
				plane[a] += d[k]
			}
		}
	})
}

// Mul sets dst[i] = a[i]·b[i].
func Mul[T Float](dst, a, b []T) {
	for i, v := range a {
		dst[i] = v * b[i]
	}
}
