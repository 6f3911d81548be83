package kernels

import "math"

// Normalisation loops. Batch norm sees x laid out [n, c, s]: n examples, c
// channels (features), s positions per channel and example (h·w for NCHW
// images, 1 for feature vectors); statistics are per channel, over the
// first rows examples, and loops are split among workers by channel. Layer
// norm sees x as rows of length d, split among workers by row. Sums are
// taken in float64, in a fixed order.

// grainFor returns how many units of per-unit work each worker must get at
// least so that a worker handles about elementGrain values.
func grainFor(perUnit int) int { return max(1, elementGrain/max(perUnit, 1)) }

// BatchNormStats sets mean[ch] and the biased variance variance[ch] of each
// channel of x ([n, c, s]) over its first rows examples. Four channels are
// summed side by side, each in its own accumulator and in its own order
// (examples, then positions), so that one channel's additions need not wait
// for each other's results.
func BatchNormStats[T Float](x []T, rows, c, s int, mean, variance []float64) {
	m := float64(rows * s)
	ParallelFor((c+3)/4, grainFor(4*rows*s), func(lo, hi int) {
		for c0 := lo * 4; c0 < min(hi*4, c); c0 += 4 {
			if c0+4 > c {
				for ch := c0; ch < c; ch++ {
					sum := 0.0
					for r := 0; r < rows; r++ {
						for _, v := range x[(r*c+ch)*s : (r*c+ch+1)*s] {
							sum += float64(v)
						}
					}
					mu := sum / m
					sq := 0.0
					for r := 0; r < rows; r++ {
						for _, v := range x[(r*c+ch)*s : (r*c+ch+1)*s] {
							d := float64(v) - mu
							sq += float64(d * d)
						}
					}
					mean[ch], variance[ch] = mu, sq/m
				}
				continue
			}
			var s0, s1, s2, s3 float64
			for r := 0; r < rows; r++ {
				o := (r*c + c0) * s
				x0, x1, x2, x3 := x[o:o+s], x[o+s:o+2*s], x[o+2*s:o+3*s], x[o+3*s:o+4*s]
				for i := range x0 {
					s0 += float64(x0[i])
					s1 += float64(x1[i])
					s2 += float64(x2[i])
					s3 += float64(x3[i])
				}
			}
			m0, m1, m2, m3 := s0/m, s1/m, s2/m, s3/m
			var q0, q1, q2, q3 float64
			for r := 0; r < rows; r++ {
				o := (r*c + c0) * s
				x0, x1, x2, x3 := x[o:o+s], x[o+s:o+2*s], x[o+2*s:o+3*s], x[o+3*s:o+4*s]
				for i := range x0 {
					d0, d1, d2, d3 := float64(x0[i])-m0, float64(x1[i])-m1, float64(x2[i])-m2, float64(x3[i])-m3
					q0 += float64(d0 * d0)
					q1 += float64(d1 * d1)
					q2 += float64(d2 * d2)
					q3 += float64(d3 * d3)
				}
			}
			mean[c0], mean[c0+1], mean[c0+2], mean[c0+3] = m0, m1, m2, m3
			variance[c0], variance[c0+1], variance[c0+2], variance[c0+3] = q0/m, q1/m, q2/m, q3/m
		}
	})
}

// BatchNormForward sets y = (x - mean)·invstd·w + b, per channel, for the
// first rows examples of x ([n, c, s]), and zero for the others.
func BatchNormForward[T Float](y, x, w, b []T, rows, c, s int, mean, invstd []float64) {
	ParallelFor(c, grainFor(rows*s), func(lo, hi int) {
		for ch := lo; ch < hi; ch++ {
			scale := invstd[ch] * float64(w[ch])
			shift := float64(b[ch]) - float64(mean[ch]*scale)
			for r := 0; r < rows; r++ {
				o := (r*c + ch) * s
				done := 0
				if y32, ok := any(y).([]float32); ok && cpu.wide && s >= 8 {
					done = s &^ 7
					bnForward512(&y32[o], &any(x).([]float32)[o], done, scale, shift)
				}
				for i, v := range x[o+done : o+s] {
					y[o+done+i] = T(float64(float64(v)*scale) + shift)
				}
			}
		}
	})
	clear(y[rows*c*s:])
}

// BatchNormGradSums sets sums[ch] = Σ dy and sums[c+ch] = Σ dy·x̂, with
// x̂ = (x - mean)·invstd, over the first rows examples of channel ch: the
// gradients of the bias and of the weight. Like BatchNormStats, it sums
// four channels side by side, each in its own order.
func BatchNormGradSums[T Float](sums, x, dy []T, rows, c, s int, mean, invstd []float64) {
	ParallelFor((c+3)/4, grainFor(4*rows*s), func(lo, hi int) {
		for c0 := lo * 4; c0 < min(hi*4, c); c0 += 4 {
			if c0+4 > c {
				for ch := c0; ch < c; ch++ {
					sd, sdx := 0.0, 0.0
					for r := 0; r < rows; r++ {
						o := (r*c + ch) * s
						for i, g := range dy[o : o+s] {
							sd += float64(g)
							sdx += float64(float64(g) * (float64(x[o+i]) - mean[ch]))
						}
					}
					sums[ch], sums[c+ch] = T(sd), T(sdx*invstd[ch])
				}
				continue
			}
			m0, m1, m2, m3 := mean[c0], mean[c0+1], mean[c0+2], mean[c0+3]
			var d0, d1, d2, d3, p0, p1, p2, p3 float64
			for r := 0; r < rows; r++ {
				o := (r*c + c0) * s
				g0, g1, g2, g3 := dy[o:o+s], dy[o+s:o+2*s], dy[o+2*s:o+3*s], dy[o+3*s:o+4*s]
				x0, x1, x2, x3 := x[o:o+s], x[o+s:o+2*s], x[o+2*s:o+3*s], x[o+3*s:o+4*s]
				for i := range g0 {
					d0 += float64(g0[i])
					p0 += float64(float64(g0[i]) * (float64(x0[i]) - m0))
					d1 += float64(g1[i])
					p1 += float64(float64(g1[i]) * (float64(x1[i]) - m1))
					d2 += float64(g2[i])
					p2 += float64(float64(g2[i]) * (float64(x2[i]) - m2))
					d3 += float64(g3[i])
					p3 += float64(float64(g3[i]) * (float64(x3[i]) - m3))
				}
			}
			sums[c0], sums[c0+1], sums[c0+2], sums[c0+3] = T(d0), T(d1), T(d2), T(d3)
			sums[c+c0], sums[c+c0+1] = T(p0*invstd[c0]), T(p1*invstd[c0+1])
			sums[c+c0+2], sums[c+c0+3] = T(p2*invstd[c0+2]), T(p3*invstd[c0+3])
		}
	})
}

// BatchNormInputGrad sets dx for the first rows examples of x and zero for
// the others, from sums as BatchNormGradSums computes them. With batch set
// (the statistics were the batch's, m = rows·s values per channel):
//
//	dx = w·invstd·(dy - Σdy/m - x̂·Σ(dy·x̂)/m)
//
// and otherwise (fixed statistics) dx = w·invstd·dy.
func BatchNormInputGrad[T Float](dx, x, dy, w, sums []T, rows, c, s int, mean, invstd []float64, batch bool) {
	m := float64(rows * s)
	ParallelFor(c, grainFor(rows*s), func(lo, hi int) {
		for ch := lo; ch < hi; ch++ {
			k := float64(w[ch]) * invstd[ch]
			var md, mdx float64
			if batch {
				md, mdx = float64(sums[ch])/m, float64(sums[c+ch])/m
			}
			for r := 0; r < rows; r++ {
				o := (r*c + ch) * s
				done := 0
				if dx32, ok := any(dx).([]float32); ok && cpu.wide && s >= 8 {
					done = s &^ 7
					bnInputGrad512(&dx32[o], &any(x).([]float32)[o], &any(dy).([]float32)[o], done, mean[ch], invstd[ch], k, md, mdx)
				}
				for i, g := range dy[o+done : o+s] {
					xh := (float64(x[o+done+i]) - mean[ch]) * invstd[ch]
					dx[o+done+i] = T(k * (float64(g) - md - float64(xh*mdx)))
				}
			}
		}
	})
	clear(dx[rows*c*s:])
}

// LayerNormForward normalises each row of length d of x with its own mean
// and biased variance, y = (x - mean)·invstd·w + b, invstd =
// 1/sqrt(var + eps), and keeps each row's mean and invstd.
func LayerNormForward[T Float](y, x, w, b []T, d int, eps float64, mean, invstd []float64) {
	ParallelFor(len(mean), grainFor(d), func(lo, hi int) {
		for r := lo; r < hi; r++ {
			row := x[r*d : (r+1)*d]
			sum := 0.0
			for _, v := range row {
				sum += float64(v)
			}
			mu := sum / float64(d)
			sq := 0.0
			for _, v := range row {
				e := float64(v) - mu
				sq += float64(e * e)
			}
			is := 1 / math.Sqrt(sq/float64(d)+eps)
			mean[r], invstd[r] = mu, is
			out := y[r*d : (r+1)*d]
			for j, v := range row {
				out[j] = T(float64((float64(v)-mu)*is*float64(w[j])) + float64(b[j]))
			}
		}
	})
}

// LayerNormInputGrad sets dx row by row from the forward pass's mean and
// invstd: with ĝ = dy·w, dx = invstd·(ĝ - Σĝ/d - x̂·Σ(ĝ·x̂)/d).
func LayerNormInputGrad[T Float](dx, x, dy, w []T, d int, mean, invstd []float64) {
	ParallelFor(len(mean), grainFor(d), func(lo, hi int) {
		for r := lo; r < hi; r++ {
			o := r * d
			mu, is := mean[r], invstd[r]
			sg, sgx := 0.0, 0.0
			for j, g := range dy[o : o+d] {
				gh := float64(float64(g) * float64(w[j]))
				sg += gh
				sgx += float64(gh * (float64(x[o+j]) - mu) * is)
			}
			sg /= float64(d)
			sgx /= float64(d)
			for j, g := range dy[o : o+d] {
				xh := (float64(x[o+j]) - mu) * is
				dx[o+j] = T(is * (float64(float64(g)*float64(w[j])) - sg - float64(xh*sgx)))
			}
		}
	})
}

// LayerNormWeightGrad sets dw[j] = Σ_r dy[r, j]·x̂[r, j], summing rows in
// order; columns are split among workers.
func LayerNormWeightGrad[T Float](dw, x, dy []T, mean, invstd []float64) {
	d := len(dw)
	ParallelFor(d, grainFor(len(mean)), func(lo, hi int) {
		acc := make([]float64, hi-lo)
		for r := range mean {
			o := r * d
			for j := lo; j < hi; j++ {
				acc[j-lo] += float64(float64(dy[o+j]) * (float64(x[o+j]) - mean[r]) * invstd[r])
			}
		}
		for j, v := range acc {
			dw[lo+j] = T(v)
		}
	})
}
