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
// channel of x ([n, c, s]) over its first rows examples.
func BatchNormStats[T Float](x []T, rows, c, s int, mean, variance []float64) {
	m := float64(rows * s)
	ParallelFor(c, grainFor(rows*s), func(lo, hi int) {
		for ch := lo; ch < hi; ch++ {
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
					sq += d * d
				}
			}
			mean[ch], variance[ch] = mu, sq/m
		}
	})
}

// BatchNormForward sets y = (x - mean)·invstd·w + b, per channel, for the
// first rows examples of x ([n, c, s]), and zero for the others.
func BatchNormForward[T Float](y, x, w, b []T, rows, c, s int, mean, invstd []float64) {
	ParallelFor(c, grainFor(rows*s), func(lo, hi int) {
		for ch := lo; ch < hi; ch++ {
			scale := invstd[ch] * float64(w[ch])
			shift := float64(b[ch]) - mean[ch]*scale
			for r := 0; r < rows; r++ {
				o := (r*c + ch) * s
				for i, v := range x[o : o+s] {
					y[o+i] = T(float64(v)*scale + shift)
				}
			}
		}
	})
	clear(y[rows*c*s:])
}

// BatchNormGradSums sets sums[ch] = Σ dy and sums[c+ch] = Σ dy·x̂, with
// x̂ = (x - mean)·invstd, over the first rows examples of channel ch: the
// gradients of the bias and of the weight.
func BatchNormGradSums[T Float](sums, x, dy []T, rows, c, s int, mean, invstd []float64) {
	ParallelFor(c, grainFor(rows*s), func(lo, hi int) {
		for ch := lo; ch < hi; ch++ {
			sd, sdx := 0.0, 0.0
			for r := 0; r < rows; r++ {
				o := (r*c + ch) * s
				for i, g := range dy[o : o+s] {
					sd += float64(g)
					sdx += float64(g) * (float64(x[o+i]) - mean[ch])
				}
			}
			sums[ch], sums[c+ch] = T(sd), T(sdx*invstd[ch])
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
				for i, g := range dy[o : o+s] {
					xh := (float64(x[o+i]) - mean[ch]) * invstd[ch]
					dx[o+i] = T(k * (float64(g) - md - xh*mdx))
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
				sq += e * e
			}
			is := 1 / math.Sqrt(sq/float64(d)+eps)
			mean[r], invstd[r] = mu, is
			out := y[r*d : (r+1)*d]
			for j, v := range row {
				out[j] = T((float64(v)-mu)*is*float64(w[j]) + float64(b[j]))
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
				gh := float64(g) * float64(w[j])
				sg += gh
				sgx += gh * (float64(x[o+j]) - mu) * is
			}
			sg /= float64(d)
			sgx /= float64(d)
			for j, g := range dy[o : o+d] {
				xh := (float64(x[o+j]) - mu) * is
				dx[o+j] = T(is * (float64(g)*float64(w[j]) - sg - xh*sgx))
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
				acc[j-lo] += float64(dy[o+j]) * (float64(x[o+j]) - mean[r]) * invstd[r]
			}
		}
		for j, v := range acc {
			dw[lo+j] = T(v)
		}
	})
}
