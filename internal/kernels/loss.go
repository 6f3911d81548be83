package kernels

import "math"

// The loss kernels take logits z and targets t of rows×n and per-row
// weights w. They return Σ_r w[r]·loss(r) / Σ_r w[r], the weighted mean of
// the per-example loss, and their Grad forms write g·∂loss/∂z into dz.
// A weight of 0 masks out padding rows of a short last batch. Products
// that feed a sum are rounded first (float64(a*b)), here and in every Go
// loop of this package, so that no compiler fuses them into a multiply-add
// and each loop gives the same bits on every architecture.

func weightSum[T Float](w []T) float64 {
	s := 0.0
	for _, v := range w {
		s += float64(v)
	}
	if s == 0 {
		return 1
	}
	return s
}

// SoftmaxCrossEntropy is the categorical cross-entropy of softmax(z)
// against the target distribution t: loss(r) = -Σ_j t[r,j]·log_softmax(z)[r,j].
func SoftmaxCrossEntropy[T Float](z, t, w []T, n int) float64 {
	total := 0.0
	for r := range w {
		if w[r] == 0 {
			continue
		}
		zr, tr := z[r*n:(r+1)*n], t[r*n:(r+1)*n]
		ls := logSumExp(zr)
		l := 0.0
		for j, v := range zr {
			if tr[j] != 0 {
				l -= float64(float64(tr[j]) * (float64(v) - ls))
			}
		}
		total += float64(float64(w[r]) * l)
	}
	return total / weightSum(w)
}

// SoftmaxCrossEntropyGrad writes dz = g·w[r]/Σw·(softmax(z) - t).
func SoftmaxCrossEntropyGrad[T Float](dz, z, t, w []T, n int, g float64) {
	ws := weightSum(w)
	for r := range w {
		zr, tr, dr := z[r*n:(r+1)*n], t[r*n:(r+1)*n], dz[r*n:(r+1)*n]
		if w[r] == 0 {
			for j := range dr {
				dr[j] = 0
			}
			continue
		}
		ls := logSumExp(zr)
		ts := 0.0
		for _, v := range tr {
			ts += float64(v)
		}
		c := g * float64(w[r]) / ws
		for j, v := range zr {
			dr[j] = T(c * (float64(math.Exp(float64(v)-ls)*ts) - float64(tr[j])))
		}
	}
}

func logSumExp[T Float](z []T) float64 {
	m := math.Inf(-1)
	for _, v := range z {
		m = math.Max(m, float64(v))
	}
	s := 0.0
	for _, v := range z {
		s += math.Exp(float64(v) - m)
	}
	return m + math.Log(s)
}

// SigmoidCrossEntropy is the binary cross-entropy of sigmoid(z) against t,
// averaged over the n outputs of a row and computed stably from logits:
// max(z,0) - z·t + log(1+exp(-|z|)).
func SigmoidCrossEntropy[T Float](z, t, w []T, n int) float64 {
	total := 0.0
	for r := range w {
		if w[r] == 0 {
			continue
		}
		l := 0.0
		for j := r * n; j < (r+1)*n; j++ {
			v, y := float64(z[j]), float64(t[j])
			l += math.Max(v, 0) - float64(v*y) + math.Log1p(math.Exp(-math.Abs(v)))
		}
		total += float64(w[r]) * l / float64(n)
	}
	return total / weightSum(w)
}

// SigmoidCrossEntropyGrad writes dz = g·w[r]/(n·Σw)·(sigmoid(z) - t).
func SigmoidCrossEntropyGrad[T Float](dz, z, t, w []T, n int, g float64) {
	ws := weightSum(w)
	for r := range w {
		c := g * float64(w[r]) / (ws * float64(n))
		for j := r * n; j < (r+1)*n; j++ {
			dz[j] = T(c * (sigmoid(float64(z[j])) - float64(t[j])))
		}
	}
}

// SquaredError is the mean squared error between z and t, averaged over
// the n outputs of a row.
func SquaredError[T Float](z, t, w []T, n int) float64 {
	total := 0.0
	for r := range w {
		if w[r] == 0 {
			continue
		}
		l := 0.0
		for j := r * n; j < (r+1)*n; j++ {
			d := float64(z[j]) - float64(t[j])
			l += float64(d * d)
		}
		total += float64(w[r]) * l / float64(n)
	}
	return total / weightSum(w)
}

// SquaredErrorGrad writes dz = g·w[r]/(n·Σw)·2(z - t).
func SquaredErrorGrad[T Float](dz, z, t, w []T, n int, g float64) {
	ws := weightSum(w)
	for r := range w {
		c := 2 * g * float64(w[r]) / (ws * float64(n))
		for j := r * n; j < (r+1)*n; j++ {
			dz[j] = T(c * (float64(z[j]) - float64(t[j])))
		}
	}
}

// Huber is the mean over the n outputs of a row of the Huber loss of
// d = z - t with δ = 1: d²/2 where |d| ≤ 1, |d| - 1/2 beyond (PyTorch's
// SmoothL1Loss / HuberLoss with delta 1).
func Huber[T Float](z, t, w []T, n int) float64 {
	total := 0.0
	for r := range w {
		if w[r] == 0 {
			continue
		}
		l := 0.0
		for j := r * n; j < (r+1)*n; j++ {
			d := float64(z[j]) - float64(t[j])
			if a := math.Abs(d); a <= 1 {
				l += float64(d * d / 2)
			} else {
				l += a - 0.5
			}
		}
		total += float64(w[r]) * l / float64(n)
	}
	return total / weightSum(w)
}

// HuberGrad writes dz = g·w[r]/(n·Σw)·clip(z - t, -1, 1).
func HuberGrad[T Float](dz, z, t, w []T, n int, g float64) {
	ws := weightSum(w)
	for r := range w {
		c := g * float64(w[r]) / (ws * float64(n))
		for j := r * n; j < (r+1)*n; j++ {
			d := max(-1, min(1, float64(z[j])-float64(t[j])))
			dz[j] = T(c * d)
		}
	}
}

// Linear is Σ_j t[r,j]·z[r,j], the loss whose gradient is t: a
// surrogate whose coefficients t the caller computes (a policy gradient's
// ∂L/∂z, say), weighted and averaged over rows like the others.
func Linear[T Float](z, t, w []T, n int) float64 {
	total := 0.0
	for r := range w {
		if w[r] == 0 {
			continue
		}
		l := 0.0
		for j := r * n; j < (r+1)*n; j++ {
			l += float64(float64(t[j]) * float64(z[j]))
		}
		total += float64(float64(w[r]) * l)
	}
	return total / weightSum(w)
}

// LinearGrad writes dz = g·w[r]/Σw·t.
func LinearGrad[T Float](dz, z, t, w []T, n int, g float64) {
	ws := weightSum(w)
	for r := range w {
		c := g * float64(w[r]) / ws
		for j := r * n; j < (r+1)*n; j++ {
			dz[j] = T(c * float64(t[j]))
		}
	}
}
