package kernels

import "math"

// The GELU activation, x·Φ(x) with Φ the standard normal distribution
// function, in its exact form and in the tanh approximation of Hendrycks
// and Gimpel (GPT-2's, PyTorch's GELU(approximate="tanh")):
//
//	exact:  0.5·x·(1 + erf(x/√2))
//	tanh:   0.5·x·(1 + tanh(√(2/π)·(x + 0.044715·x³)))
//
// float64 uses the standard library's erf and tanh; float32 the vector
// tanh of the recurrent layers (Tanhs) and a float32 erf within 2e-7 of
// math.Erf, each the same bits on every run.

const (
	geluC = 0.7978845608028654 // √(2/π)
	geluA = 0.044715
	sqrt2 = 1.4142135623730951
	// invSqrt2Pi is 1/√(2π), the standard normal density at 0.
	invSqrt2Pi = 0.3989422804014327
)

// GELU sets dst[i] = GELU(x[i]), by the tanh approximation if tanh.
func GELU[T Float](dst, x []T, tanh bool) {
	if d, ok := any(dst).([]float32); ok {
		xs := any(x).([]float32)
		ParallelFor(len(xs), elementGrain, func(lo, hi int) { gelu32(d[lo:hi], xs[lo:hi], tanh) })
		return
	}
	for i, v := range x {
		f := float64(v)
		if tanh {
			dst[i] = T(0.5 * f * (1 + math.Tanh(geluC*(f+float64(geluA*f*f*f)))))
		} else {
			dst[i] = T(0.5 * f * (1 + math.Erf(f/sqrt2)))
		}
	}
}

// GELUGrad sets dx[i] = dy[i]·GELU'(x[i]).
func GELUGrad[T Float](dx, x, dy []T, tanh bool) {
	if d, ok := any(dx).([]float32); ok {
		xs, g := any(x).([]float32), any(dy).([]float32)
		ParallelFor(len(xs), elementGrain, func(lo, hi int) { geluGrad32(d[lo:hi], xs[lo:hi], g[lo:hi], tanh) })
		return
	}
	for i, v := range x {
		f := float64(v)
		var d float64
		if tanh {
			t := math.Tanh(geluC * (f + float64(geluA*f*f*f)))
			d = float64(0.5*(1+t)) + float64(0.5*f*(1-float64(t*t))*geluC*(1+float64(3*geluA*f*f)))
		} else {
			d = float64(0.5*(1+math.Erf(f/sqrt2))) + float64(f*invSqrt2Pi*math.Exp(-0.5*f*f))
		}
		dx[i] = T(float64(dy[i]) * d)
	}
}

// gelu32 is GELU for float32: the tanh form through Tanhs, in place in
// dst (which may alias x only if tanh is false).
func gelu32(dst, x []float32, tanh bool) {
	dst = dst[:len(x)]
	if tanh {
		for i, v := range x {
			dst[i] = geluC * (v + float32(geluA*v*v*v))
		}
		Tanhs(dst, dst)
		for i, v := range x {
			dst[i] = 0.5 * v * (1 + dst[i])
		}
		return
	}
	for i, v := range x {
		dst[i] = 0.5 * v * (1 + erff(v*(1/sqrt2)))
	}
}

// geluGrad32 is GELUGrad for float32; dx must not alias x or dy.
func geluGrad32(dx, x, dy []float32, tanh bool) {
	dx, dy = dx[:len(x)], dy[:len(x)]
	if tanh {
		for i, v := range x {
			dx[i] = geluC * (v + float32(geluA*v*v*v))
		}
		Tanhs(dx, dx)
		for i, v := range x {
			t := dx[i]
			dx[i] = dy[i] * (float32(0.5*(1+t)) + float32(0.5*v*(1-float32(t*t))*geluC*(1+float32(3*geluA*v*v))))
		}
		return
	}
	for i, v := range x {
		dx[i] = dy[i] * (float32(0.5*(1+erff(v*(1/sqrt2)))) + float32(v*invSqrt2Pi*expf(-0.5*v*v)))
	}
}

// erff returns erf(x) in float32 to within 2e-7 of math.Erf: for
// |x| < 0.84375 the odd polynomial of fdlibm's s_erff.c, beyond it
// 1 - t·exp(-x² + P(t)) with t = 1/(1 + |x|/2) (the Chebyshev fit of
// Numerical Recipes' erfc, fractional error below 1.2e-7), exp by expf.
func erff(x float32) float32 {
	a := x
	if a < 0 {
		a = -a
	}
	if a < 0.84375 {
		z := x * x
		// erf(x) = x + x·(2/√π − 1 + z·(...)): fdlibm's pp/qq rational form.
		// Horner's rule, each product rounded before its sum (T(a·b), as
		// everywhere in this package: no fused multiply-add on arm64).
		r := -5.77027029e-03 + float32(z*-2.37630166e-05)
		r = -2.84817495e-02 + float32(z*r)
		r = -3.25042108e-01 + float32(z*r)
		r = 1.28379167e-01 + float32(z*r)
		s := 1.32494737e-04 + float32(z*-3.96022827e-06)
		s = 5.08130603e-03 + float32(z*s)
		s = 6.50222525e-02 + float32(z*s)
		s = 3.97917223e-01 + float32(z*s)
		s = 1 + float32(z*s)
		return x + float32(x*(r/s))
	}
	if a >= 6 {
		if x < 0 {
			return -1
		}
		return 1
	}
	t := 1 / (1 + float32(0.5*a))
	p := -0.82215223 + float32(t*0.17087277)
	p = 1.48851587 + float32(t*p)
	p = -1.13520398 + float32(t*p)
	p = 0.27886807 + float32(t*p)
	p = -0.18628806 + float32(t*p)
	p = 0.09678418 + float32(t*p)
	p = 0.37409196 + float32(t*p)
	p = 1.00002368 + float32(t*p)
	p = -1.26551223 + float32(t*p)
	e := 1 - float32(t*expf(float32(-a*a)+p))
	if x < 0 {
		return -e
	}
	return e
}

// Exps sets dst[i] = e^x[i] for float32, sixteen at a time with AVX-512
// or eight with AVX2 (the same operations in the same order as the scalar
// expf, so the same bits): within a few units in the last place of the
// exact value, 0 below -87.3 and +Inf above 88.7.
func Exps(dst, x []float32) { activate(dst, x, 0, expf) }
