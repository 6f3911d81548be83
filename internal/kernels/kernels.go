// Package kernels holds the numeric loops behind dlrun's own Gorgonia ops:
// plain Go over slices, generic in the element type, each summing in a
// fixed order so that results do not depend on GOMAXPROCS.
package kernels

import "math"

// Float is the set of element types the kernels support.
type Float interface{ ~float32 | ~float64 }

// elementGrain is the smallest slice worth splitting among workers.
const elementGrain = 1 << 15

// ReLU sets dst[i] = max(x[i], 0).
func ReLU[T Float](dst, x []T) {
	if d, ok := any(dst).([]float32); ok {
		xs := any(x).([]float32)
		ParallelFor(len(xs), elementGrain, func(lo, hi int) { reluMask32(d[lo:hi], xs[lo:hi], xs[lo:hi]) })
		return
	}
	for i, v := range x {
		if v > 0 {
			dst[i] = v
		} else {
			dst[i] = 0
		}
	}
}

// reluMask32 sets dst[i] = v[i] where x[i] > 0, else 0 (NaN counts as
// not positive), with the vector loop where there is one.
func reluMask32(dst, x, v []float32) {
	n := len(x)
	v, dst = v[:n], dst[:n]
	done := 0
	if cpu.vector && n >= 8 {
		done = n &^ 7
		keepPositiveVec(&dst[0], &x[0], &v[0], done)
	}
	for i := done; i < n; i++ {
		// x > 0 exactly when its bits u satisfy 1 <= u <= +Inf's (the
		// sign clear, not zero, not NaN): a mask from two differences'
		// signs, with no branch to mispredict on data whose signs are
		// random, as a ReLU's are.
		u := int64(math.Float32bits(x[i]))
		keep := ^uint32(((u - 1) | (0x7f800000 - u)) >> 63)
		dst[i] = math.Float32frombits(math.Float32bits(v[i]) & keep)
	}
}

// keepPositive sets dst[i] = v[i] where x[i] > 0, else 0 (branch-free
// for float32). dst may alias x or v.
func keepPositive[T Float](dst, x, v []T) {
	if d, ok := any(dst).([]float32); ok {
		reluMask32(d, any(x).([]float32), any(v).([]float32))
		return
	}
	for i, xv := range x {
		if xv > 0 {
			dst[i] = v[i]
		} else {
			dst[i] = 0
		}
	}
}

// ReLUGrad sets dx[i] = dy[i] where x[i] > 0, else 0.
func ReLUGrad[T Float](dx, x, dy []T) {
	if d, ok := any(dx).([]float32); ok {
		xs, g := any(x).([]float32), any(dy).([]float32)
		ParallelFor(len(xs), elementGrain, func(lo, hi int) { reluMask32(d[lo:hi], xs[lo:hi], g[lo:hi]) })
		return
	}
	for i, v := range x {
		if v > 0 {
			dx[i] = dy[i]
		} else {
			dx[i] = 0
		}
	}
}

// Sigmoid sets dst[i] = 1/(1+exp(-x[i])), stably for large |x|.
func Sigmoid[T Float](dst, x []T) {
	for i, v := range x {
		dst[i] = T(sigmoid(float64(v)))
	}
}

func sigmoid(v float64) float64 {
	if v >= 0 {
		return 1 / (1 + math.Exp(-v))
	}
	e := math.Exp(v)
	return e / (1 + e)
}

// SigmoidGrad sets dx[i] = dy[i]·y[i]·(1-y[i]) from the output y.
func SigmoidGrad[T Float](dx, y, dy []T) {
	for i, v := range y {
		dx[i] = dy[i] * v * (1 - v)
	}
}

// Tanh sets dst[i] = tanh(x[i]).
func Tanh[T Float](dst, x []T) {
	for i, v := range x {
		dst[i] = T(math.Tanh(float64(v)))
	}
}

// TanhGrad sets dx[i] = dy[i]·(1-y[i]²) from the output y.
func TanhGrad[T Float](dx, y, dy []T) {
	for i, v := range y {
		dx[i] = dy[i] * (1 - T(v*v))
	}
}

// AddBias sets dst = x + b, where x is rows×len(b) and b is added to each row.
func AddBias[T Float](dst, x, b []T) {
	n := len(b)
	for r := 0; r+n <= len(x); r += n {
		row, out := x[r:r+n], dst[r:r+n]
		for j, v := range b {
			out[j] = row[j] + v
		}
	}
}

// SumRows sets db[j] = Σ_r dy[r, j] for dy of rows×len(db) (the bias
// gradient), summing rows in order; columns are split among cores.
func SumRows[T Float](db, dy []T) {
	cols := len(db)
	ParallelFor(cols, 64, func(lo, hi int) {
		s := db[lo:hi]
		clear(s)
		for r := 0; r+cols <= len(dy); r += cols {
			for j, v := range dy[r+lo : r+hi] {
				s[j] += v
			}
		}
	})
}

// Softmax sets each row of dst (rows of length n) to the softmax of x's row.
// With log set it computes log-softmax instead.
func Softmax[T Float](dst, x []T, n int, log bool) {
	for r := 0; r+n <= len(x); r += n {
		row, out := x[r:r+n], dst[r:r+n]
		m := math.Inf(-1)
		for _, v := range row {
			m = math.Max(m, float64(v))
		}
		s := 0.0
		for _, v := range row {
			s += math.Exp(float64(v) - m)
		}
		if log {
			ls := m + math.Log(s)
			for j, v := range row {
				out[j] = T(float64(v) - ls)
			}
			continue
		}
		for j, v := range row {
			out[j] = T(math.Exp(float64(v)-m) / s)
		}
	}
}

// SoftmaxGrad computes dx from the softmax output y and dy, row by row:
// dx = y·(dy - Σ dy·y). With log set, y is the log-softmax output and
// dx = dy - softmax·Σ dy.
func SoftmaxGrad[T Float](dx, y, dy []T, n int, log bool) {
	for r := 0; r+n <= len(y); r += n {
		yr, dyr, dxr := y[r:r+n], dy[r:r+n], dx[r:r+n]
		s := 0.0
		if log {
			for _, g := range dyr {
				s += float64(g)
			}
			for j, v := range yr {
				dxr[j] = T(float64(dyr[j]) - float64(math.Exp(float64(v))*s))
			}
			continue
		}
		for j, v := range yr {
			s += float64(float64(dyr[j]) * float64(v))
		}
		for j, v := range yr {
			dxr[j] = T(float64(v) * (float64(dyr[j]) - s))
		}
	}
}
