package kernels

// The explicit convolution, kept as the tests' reference for the implicit
// one (convgemm.go): the im2col matrix and the layout changes between
// channel layout (OC × N·P) and NCHW.

// im2colRef writes the patches of x (N×C×H×W) into cols, a matrix of
// C·KH·KW rows and N·OH·OW columns: row (c, i, j), column (n, oh, ow)
// holds x[n, c, oh·SH+i-PadT, ow·SW+j-PadL], or 0 in the padding.
func im2colRef[T Float](g ConvGeom, x, cols []T) {
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

// channelsToNCHWRef turns y (OC × N·P, as a convolution's matrix product
// gives it) into out (N × OC × P), adding bias[oc] if bias is not nil and
// then applying ReLU if relu is set.
func channelsToNCHWRef[T Float](y []T, n, oc, p int, bias []T, relu bool, out []T) {
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

// nchwToChannelsRef is the inverse layout change: out (OC × N·P) from dy
// (N × OC × P). If y is not nil (the output of a fused ReLU), gradients
// where y is not positive become 0.
func nchwToChannelsRef[T Float](dy, y []T, n, oc, p int, out []T) {
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
