package kernels

// Winograd's minimal filtering F(4×4, 3×3) for 3×3 convolutions of stride
// 1 on the pure-Go path, where a multiply-add costs the same three scalar
// instructions however it is scheduled, so that only fewer of them make a
// convolution faster (Lavin and Gray, "Fast Algorithms for Convolutional
// Neural Networks", 2016). The output is cut into 4×4 tiles, each read
// from a 6×6 tile of the input; with the input tile d and the filter g
// transformed (V = Bᵀ d B, U = G g Gᵀ), a tile of output is Aᵀ [Σ_c U ⊙ V] A:
// for each of the 36 positions of the transformed tile, one matrix product
// of the transformed filters (OC × C) by the transformed tiles (C × tiles),
// 36 multiply-adds per 16 outputs and channel pair where the direct
// convolution takes 144. The filter gradient is the same computation's
// adjoint: with Ŷ = A dY Aᵀ for each tile of the output gradient, dU =
// Σ_tiles Ŷ ⊙ V and dW = Gᵀ dU G; the input gradient of a tile is
// B [Σ_k U ⊙ Ŷ] Bᵀ, added into the input plane where the tiles overlap.
//
// The transforms trade multiplications for additions and round
// differently from the direct sum: results agree with it to a few units
// in the sixth significant digit, not to the bit, so the route is taken
// for float32 alone (float64, the gradient checks' type, keeps the direct
// products) and on the pure-Go path alone (the vector paths' published
// weights rest on the direct products' bits). Every product is rounded on
// its own (T(a·b)), so the bits are the same on every architecture, and
// each value is computed by the same operations whichever worker computes
// it, so they do not depend on GOMAXPROCS.

const (
	winoM           = 4             // output tile side
	winoT           = winoM + 2     // input tile side
	winoTT          = winoT * winoT // positions of a transformed tile
	winoK           = 3             // the filter side it computes
	winoMinChannels = 8             // fewest input and output channels it is used for
)

// winoScratch is the working memory of the Winograd convolutions. The
// transformed tiles are kept tile-major, the 36 positions of a tile side
// by side, so that a transform reads or writes one compact block; the
// products for position e read and write every 36th row-block of them.
type winoScratch[T Float] struct {
	u  []T // transformed filters: [36][C][OC]
	v  []T // transformed input tiles (forward, filter gradient) or the input gradient's, [tiles][36][C]
	m  []T // the forward products, or the transformed output gradients: [tiles][36][OC]
	du []T // the filter gradient's products: [36][OC][C]
}

// useWinograd reports whether the convolution g with oc filters takes the
// Winograd route for element type T on the path this machine runs.
func useWinograd[T Float](g ConvGeom, oc int) bool {
	var z T
	if _, ok := any(z).(float32); !ok || cpu.path != pathGo {
		return false
	}
	return winogradFits(g, oc)
}

// winogradFits reports whether the Winograd route can compute g with oc
// filters and pays there: a 3×3 window of stride 1 and at least
// winoMinChannels channels in and out (with fewer, the transforms cost
// more than the products they save).
func winogradFits(g ConvGeom, oc int) bool {
	return g.KH == winoK && g.KW == winoK && g.SH == 1 && g.SW == 1 &&
		g.OH > 0 && g.OW > 0 && g.N > 0 &&
		min(g.PadT, g.PadB, g.PadL, g.PadR) >= 0 &&
		g.C >= winoMinChannels && oc >= winoMinChannels
}

// winoTiles returns the tiles down and across an output plane of g.
func winoTiles(g ConvGeom) (th, tw int) {
	return (g.OH + winoM - 1) / winoM, (g.OW + winoM - 1) / winoM
}

// winoForward is ConvForward by Winograd's F(4×4, 3×3).
func winoForward[T Float](g ConvGeom, oc int, x, w, bias []T, relu bool, y []T, s *winoScratch[T]) {
	th, tw := winoTiles(g)
	tiles := g.N * th * tw
	s.u = grow(s.u, winoTT*g.C*oc)
	winoFilters(s.u, w, oc, g.C)
	s.v = grow(s.v, tiles*winoTT*g.C)
	winoInputs(s.v, g, x, th, tw)
	s.m = grow(s.m, tiles*winoTT*oc)
	m := s.m
	// Position e: [tiles, OC] = [tiles, C] · [C, OC].
	winoProducts(tiles, oc, g.C, winoOperand[T]{false, s.v, winoTT * g.C, g.C}, winoOperand[T]{false, s.u, oc, g.C * oc}, m, winoTT*oc, oc)
	ParallelFor(g.N, 1, func(lo, hi int) {
		for n := lo; n < hi; n++ {
			forOutputTiles(g, oc, n, th, tw, func(t, k, at, rows, cols int) {
				var b T
				if bias != nil {
					b = bias[k]
				}
				outputTile(y[at:], g.OW, m[t*winoTT*oc+k:], oc, rows, cols, b)
			})
			if relu { // as addBiasReLU: NaN and -0 become 0
				img := y[n*oc*g.OH*g.OW : (n+1)*oc*g.OH*g.OW]
				keepPositive(img, img, img)
			}
		}
	})
}

// winoFilterGrad is ConvFilterGrad by the adjoint of winoForward: each
// transformed gradient summed over the batch's tiles in order.
func winoFilterGrad[T Float](g ConvGeom, oc int, x, dy, dw []T, s *winoScratch[T]) {
	th, tw := winoTiles(g)
	tiles := g.N * th * tw
	s.v = grow(s.v, tiles*winoTT*g.C)
	winoInputs(s.v, g, x, th, tw)
	s.m = grow(s.m, tiles*winoTT*oc)
	winoGrads(s.m, g, oc, dy, th, tw)
	s.du = grow(s.du, winoTT*oc*g.C)
	du := s.du
	// Position e: [OC, C] = [tiles, OC]ᵀ · [tiles, C].
	winoProducts(oc, g.C, tiles, winoOperand[T]{true, s.m, winoTT * oc, oc}, winoOperand[T]{false, s.v, winoTT * g.C, g.C}, du, g.C, oc*g.C)
	for f := 0; f < oc*g.C; f++ {
		winoFilterGradOf(dw[f*winoK*winoK:(f+1)*winoK*winoK], du, oc*g.C, f)
	}
}

// winoInputGrad is ConvInputGrad by the adjoint of winoForward: for each
// tile, B [Σ_k U ⊙ Ŷ] Bᵀ, added into the input planes tile by tile in
// order.
func winoInputGrad[T Float](g ConvGeom, oc int, w, dy, dx []T, s *winoScratch[T]) {
	th, tw := winoTiles(g)
	tiles := g.N * th * tw
	s.u = grow(s.u, winoTT*g.C*oc)
	winoFilters(s.u, w, oc, g.C)
	s.m = grow(s.m, tiles*winoTT*oc)
	winoGrads(s.m, g, oc, dy, th, tw)
	s.v = grow(s.v, tiles*winoTT*g.C)
	v := s.v
	// Position e: [tiles, C] = [tiles, OC] · [C, OC]ᵀ.
	winoProducts(tiles, g.C, oc, winoOperand[T]{false, s.m, winoTT * oc, oc}, winoOperand[T]{true, s.u, oc, g.C * oc}, v, winoTT*g.C, g.C)
	ParallelFor(g.N, 1, func(lo, hi int) {
		for n := lo; n < hi; n++ {
			planes := dx[n*g.C*g.H*g.W : (n+1)*g.C*g.H*g.W]
			clear(planes)
			for ty := 0; ty < th; ty++ {
				for tx := 0; tx < tw; tx++ {
					t := (n*th+ty)*tw + tx
					for c := 0; c < g.C; c++ {
						scatterTile(planes[c*g.H*g.W:(c+1)*g.H*g.W], g, ty*winoM-g.PadT, tx*winoM-g.PadL, v[t*winoTT*g.C+c:], g.C)
					}
				}
			}
		}
	})
}

// winoOperand is one operand of the 36 products of winoProducts: the
// operand of position e is the row-major matrix at s[e·step:] with row
// stride ld, transposed if trans.
type winoOperand[T Float] struct {
	trans    bool
	s        []T
	ld, step int
}

// winoProducts sets, for each position e of a transformed tile, the m×n
// matrix at c[e·cstep:] (row stride ldc) to op(A_e)·op(B_e) over k steps,
// the 36 products shared among workers, each computed as Gemm computes
// it, so the bits do not depend on the split.
func winoProducts[T Float](m, n, k int, a, b winoOperand[T], c []T, ldc, cstep int) {
	ParallelFor(winoTT, 1, func(lo, hi int) {
		for e := lo; e < hi; e++ {
			gemmRange(0, m, 0, n, k, denseA[T]{a.trans, a.s[e*a.step:], a.ld}, denseB[T]{b.trans, b.s[e*b.step:], b.ld}, false, c[e*cstep:], ldc)
		}
	})
}

// winoGrads sets m[(t·36 + e)·oc + k] to position e of A dY Aᵀ for the
// 4×4 tile dY of the output gradient's channel k at tile t, read as 0 past
// the plane's edge.
func winoGrads[T Float](m []T, g ConvGeom, oc int, dy []T, th, tw int) {
	ParallelFor(g.N, 1, func(lo, hi int) {
		for n := lo; n < hi; n++ {
			forOutputTiles(g, oc, n, th, tw, func(t, k, at, rows, cols int) {
				gradTile(m[t*winoTT*oc+k:], oc, dy[at:], g.OW, rows, cols)
			})
		}
	})
}

// forOutputTiles calls fn for each 4×4 tile of each of the oc output
// planes of image n, tile by tile and plane by plane: t the tile's number
// among the batch's, k the plane, at the offset of the tile's corner in
// the N×OC×OH×OW output, rows × cols the part of the tile inside the plane.
func forOutputTiles(g ConvGeom, oc, n, th, tw int, fn func(t, k, at, rows, cols int)) {
	for ty := 0; ty < th; ty++ {
		for tx := 0; tx < tw; tx++ {
			t := (n*th+ty)*tw + tx
			rows, cols := min(winoM, g.OH-ty*winoM), min(winoM, g.OW-tx*winoM)
			for k := 0; k < oc; k++ {
				fn(t, k, ((n*oc+k)*g.OH+ty*winoM)*g.OW+tx*winoM, rows, cols)
			}
		}
	}
}

// winoFilters sets u[(e·c + ch)·oc + k] to position e of G g Gᵀ for the
// filter g = w[k, ch].
func winoFilters[T Float](u, w []T, oc, c int) {
	for k := 0; k < oc; k++ {
		for ch := 0; ch < c; ch++ {
			g := w[(k*c+ch)*winoK*winoK : (k*c+ch+1)*winoK*winoK]
			var t [winoT * winoK]T // G g: 6 rows of 3
			for j := 0; j < winoK; j++ {
				col := filterT(g[j], g[winoK+j], g[2*winoK+j])
				for i, v := range col {
					t[i*winoK+j] = v
				}
			}
			for i := 0; i < winoT; i++ {
				row := filterT(t[i*winoK], t[i*winoK+1], t[i*winoK+2])
				for j, v := range row {
					u[((i*winoT+j)*c+ch)*oc+k] = v
				}
			}
		}
	}
}

// winoInputs sets v[(t·36 + e)·C + ch] to position e of Bᵀ d B for the
// input tile d of channel ch at tile t (image by image, tiles row by row),
// the padding and whatever lies past the input's edge read as 0.
func winoInputs[T Float](v []T, g ConvGeom, x []T, th, tw int) {
	ParallelFor(g.N, 1, func(lo, hi int) {
		var d [winoTT]T
		for n := lo; n < hi; n++ {
			for ty := 0; ty < th; ty++ {
				for tx := 0; tx < tw; tx++ {
					t := (n*th+ty)*tw + tx
					h0, w0 := ty*winoM-g.PadT, tx*winoM-g.PadL
					inside := h0 >= 0 && w0 >= 0 && h0+winoT <= g.H && w0+winoT <= g.W
					for ch := 0; ch < g.C; ch++ {
						plane := x[(n*g.C+ch)*g.H*g.W : (n*g.C+ch+1)*g.H*g.W]
						if inside {
							for i := 0; i < winoT; i++ {
								copy(d[i*winoT:(i+1)*winoT], plane[(h0+i)*g.W+w0:])
							}
						} else {
							d = [winoTT]T{}
							for i := max(0, -h0); i < winoT && h0+i < g.H; i++ {
								for j := max(0, -w0); j < winoT && w0+j < g.W; j++ {
									d[i*winoT+j] = plane[(h0+i)*g.W+w0+j]
								}
							}
						}
						inputTile(v[t*winoTT*g.C+ch:], g.C, &d)
					}
				}
			}
		}
	})
}

// winoFilterGradOf sets the 3×3 gradient dw of filter f to Gᵀ dU G, dU
// being position e of filter f at du[e·stride + f].
func winoFilterGradOf[T Float](dw, du []T, stride, f int) {
	var t [winoK * winoT]T // Gᵀ dU: 3 rows of 6
	for j := 0; j < winoT; j++ {
		var col [winoT]T
		for i := range col {
			col[i] = du[(i*winoT+j)*stride+f]
		}
		r := filterGradT(&col)
		for i, v := range r {
			t[i*winoT+j] = v
		}
	}
	for i := 0; i < winoK; i++ {
		r := filterGradT((*[winoT]T)(t[i*winoT : (i+1)*winoT]))
		copy(dw[i*winoK:(i+1)*winoK], r[:])
	}
}

// inputTile writes Bᵀ d B for the 6×6 tile d (row-major, overwritten):
// position e to v[e·stride]. Bᵀ goes down each column, then along each
// row.
func inputTile[T Float](v []T, stride int, d *[winoTT]T) {
	for j := 0; j < winoT; j++ {
		c := d[j : j+5*winoT+1 : j+5*winoT+1]
		c[0], c[6], c[12], c[18], c[24], c[30] = inputT(c[0], c[6], c[12], c[18], c[24], c[30])
	}
	_ = v[(winoTT-1)*stride]
	for i := 0; i < winoT; i++ {
		r := d[i*winoT : (i+1)*winoT : (i+1)*winoT]
		r0, r1, r2, r3, r4, r5 := inputT(r[0], r[1], r[2], r[3], r[4], r[5])
		o := i * winoT * stride
		v[o], v[o+stride], v[o+2*stride], v[o+3*stride], v[o+4*stride], v[o+5*stride] = r0, r1, r2, r3, r4, r5
	}
}

// outputTile writes the rows × cols part of the output tile Aᵀ p A, plus
// b, to out[i·ld + j]; position e of p is m[e·stride]. Aᵀ goes down each
// column, then along each row.
func outputTile[T Float](out []T, ld int, m []T, stride, rows, cols int, b T) {
	var s [winoM * winoT]T
	_ = m[(winoTT-1)*stride]
	for j := 0; j < winoT; j++ {
		o := j * stride
		s[j], s[winoT+j], s[2*winoT+j], s[3*winoT+j] = outputT(m[o], m[o+6*stride], m[o+12*stride], m[o+18*stride], m[o+24*stride], m[o+30*stride])
	}
	for i := 0; i < rows; i++ {
		r := s[i*winoT : (i+1)*winoT : (i+1)*winoT]
		var y [winoM]T
		y[0], y[1], y[2], y[3] = outputT(r[0], r[1], r[2], r[3], r[4], r[5])
		dst := out[i*ld : i*ld+cols]
		for j := range dst {
			dst[j] = y[j] + b
		}
	}
}

// gradTile writes A e Aᵀ for the 4×4 tile e of dy (e[i, j] = dy[i·ld + j]
// for i < rows, j < cols, 0 beyond): position e to m[e·stride]. A goes down
// each column, then along each row.
func gradTile[T Float](m []T, stride int, dy []T, ld, rows, cols int) {
	var e [winoM * winoM]T
	for i := 0; i < rows; i++ {
		copy(e[i*winoM:i*winoM+cols], dy[i*ld:i*ld+cols])
	}
	var s [winoT * winoM]T // A e: 6 rows of 4
	for j := 0; j < winoM; j++ {
		s[j], s[winoM+j], s[2*winoM+j], s[3*winoM+j], s[4*winoM+j], s[5*winoM+j] = gradT(e[j], e[winoM+j], e[2*winoM+j], e[3*winoM+j])
	}
	_ = m[(winoTT-1)*stride]
	for i := 0; i < winoT; i++ {
		r := s[i*winoM : (i+1)*winoM : (i+1)*winoM]
		z0, z1, z2, z3, z4, z5 := gradT(r[0], r[1], r[2], r[3])
		o := i * winoT * stride
		m[o], m[o+stride], m[o+2*stride], m[o+3*stride], m[o+4*stride], m[o+5*stride] = z0, z1, z2, z3, z4, z5
	}
}

// scatterTile adds B p Bᵀ, position e of p being v[e·stride], into the 6×6
// window of plane whose corner is row h0, column w0, dropping what falls
// outside the plane. B goes down each column, then along each row.
func scatterTile[T Float](plane []T, g ConvGeom, h0, w0 int, v []T, stride int) {
	var d [winoTT]T
	_ = v[(winoTT-1)*stride]
	for j := 0; j < winoT; j++ {
		o := j * stride
		d[j], d[winoT+j], d[2*winoT+j], d[3*winoT+j], d[4*winoT+j], d[5*winoT+j] = inputAdjT(v[o], v[o+6*stride], v[o+12*stride], v[o+18*stride], v[o+24*stride], v[o+30*stride])
	}
	if h0 >= 0 && w0 >= 0 && h0+winoT <= g.H && w0+winoT <= g.W {
		for i := 0; i < winoT; i++ {
			r := d[i*winoT : (i+1)*winoT : (i+1)*winoT]
			z0, z1, z2, z3, z4, z5 := inputAdjT(r[0], r[1], r[2], r[3], r[4], r[5])
			row := plane[(h0+i)*g.W+w0 : (h0+i)*g.W+w0+winoT : (h0+i)*g.W+w0+winoT]
			row[0] += z0
			row[1] += z1
			row[2] += z2
			row[3] += z3
			row[4] += z4
			row[5] += z5
		}
		return
	}
	for i := max(0, -h0); i < winoT && h0+i < g.H; i++ {
		r := d[i*winoT : (i+1)*winoT : (i+1)*winoT]
		var z [winoT]T
		z[0], z[1], z[2], z[3], z[4], z[5] = inputAdjT(r[0], r[1], r[2], r[3], r[4], r[5])
		row := plane[(h0+i)*g.W : (h0+i+1)*g.W]
		for j := max(0, -w0); j < winoT && w0+j < g.W; j++ {
			row[w0+j] += z[j]
		}
	}
}

// The one-dimensional transforms of F(4, 3), with the interpolation
// points 0, ±1, ±2 and ∞. Every product and quotient is rounded on its own
// (T(a·b)), even the exact ones by powers of two, so that no compiler fuses
// it into the addition that follows.
//
//	Bᵀ = [4  0 -5  0 1 0]   G = [ 1/4     0    0 ]   Aᵀ = [1 1  1 1  1 0]
//	     [0 -4 -4  1 1 0]       [-1/6 -1/6 -1/6 ]        [0 1 -1 2 -2 0]
//	     [0  4 -4 -1 1 0]       [-1/6  1/6 -1/6 ]        [0 1  1 4  4 0]
//	     [0 -2 -1  2 1 0]       [1/24 1/12  1/6 ]        [0 1 -1 8 -8 1]
//	     [0  2 -1 -2 1 0]       [1/24 -1/12 1/6 ]
//	     [0  4  0 -5 0 1]       [  0     0    1 ]

// inputT returns Bᵀ d.
func inputT[T Float](d0, d1, d2, d3, d4, d5 T) (r0, r1, r2, r3, r4, r5 T) {
	a, b := d4-T(4*d2), d3-T(4*d1)
	c, e := d4-d2, T(2*(d3-d1))
	return T(4*d0) - T(5*d2) + d4, a + b, a - b, c + e, c - e, T(4*d1) - T(5*d3) + d5
}

// inputAdjT returns B v (B is Bᵀ's transpose).
func inputAdjT[T Float](v0, v1, v2, v3, v4, v5 T) (z0, z1, z2, z3, z4, z5 T) {
	s, d := v1+v2, v1-v2
	p, q := v3+v4, v3-v4
	return T(4 * v0), T(4*v5) - T(4*d) - T(2*q), -T(5*v0) - T(4*s) - p, d + T(2*q) - T(5*v5), v0 + s + p, v5
}

// outputT returns Aᵀ p.
func outputT[T Float](p0, p1, p2, p3, p4, p5 T) (y0, y1, y2, y3 T) {
	a, b := p1+p2, p1-p2
	c, d := p3+p4, p3-p4
	return p0 + a + c, b + T(2*d), a + T(4*c), b + T(8*d) + p5
}

// filterT returns G g.
func filterT[T Float](g0, g1, g2 T) [winoT]T {
	s := g0 + g2
	p := g0 + T(4*g2)
	return [winoT]T{T(g0 / 4), T(-(s + g1) / 6), T(-(s - g1) / 6), T((p + T(2*g1)) / 24), T((p - T(2*g1)) / 24), g2}
}

// gradT returns A e (A is Aᵀ's transpose: 6 rows of 4).
func gradT[T Float](e0, e1, e2, e3 T) (z0, z1, z2, z3, z4, z5 T) {
	p, q := e0+e2, e1+e3
	r, s := e0+T(4*e2), T(2*e1)+T(8*e3)
	return e0, p + q, p - q, r + s, r - s, e3
}

// filterGradT returns Gᵀ u (3 values from 6).
func filterGradT[T Float](u *[winoT]T) [winoK]T {
	a, b := u[1]+u[2], u[1]-u[2]
	c, d := u[3]+u[4], u[3]-u[4]
	return [winoK]T{T(u[0]/4) - T(a/6) + T(c/24), T(d/12) - T(b/6), T((c-a)/6) + u[5]}
}
