package kernels

import "math"

// expf returns e^x for float32 x to within a few units in the last place,
// by range reduction to [-ln2/2, ln2/2] and a degree-6 polynomial. It is
// several times faster than float32(math.Exp(float64(x))) and, being plain
// arithmetic with every product rounded (float32(a*b): no fused
// multiply-add on any architecture), gives the same bits on every run and
// machine, as the vector loops do.
func expf(x float32) float32 {
	if x > 88.7 {
		return float32(math.Inf(1))
	}
	if x < -87.3 {
		return 0
	}
	const log2e = 1.44269504088896341
	k := floorf(float32(x*log2e) + 0.5)
	r := x - float32(k*0.693359375)
	r = r + float32(k*2.12194440e-4)
	p := float32(1.9875691500e-4)
	p = float32(p*r) + 1.3981999507e-3
	p = float32(p*r) + 8.3334519073e-3
	p = float32(p*r) + 4.1665795894e-2
	p = float32(p*r) + 1.6666665459e-1
	p = float32(p*r) + 5.0000001201e-1
	e := float32(float32(r*r)*p) + r + 1
	return math.Float32frombits(math.Float32bits(e) + uint32(int32(k))<<23)
}

// floorf is the largest integer at most y, for |y| < 2³¹ (expf's are
// within ±128): the conversion truncates toward zero, so negative
// non-integers are one too high.
func floorf(y float32) float32 {
	t := float32(int32(y))
	if t > y {
		t--
	}
	return t
}

// sigmoidf is 1/(1+e^-x) in float32.
func sigmoidf(x float32) float32 { return 1 / (1 + expf(-x)) }

// tanhf is tanh(x) in float32, as 1 - 2/(e^2x + 1): within 3e-7 of
// tanh(x) everywhere, exactly ±1 for large |x|.
func tanhf(x float32) float32 { return 1 - 2/(expf(2*x)+1) }

// expConsts are expf's constants as float32, for the vector version:
// log2e, 0.5, ln2 high and low parts, the polynomial, 1, the range limits.
var expConsts = [...]float32{
	1.44269504088896341, 0.5, 0.693359375, 2.12194440e-4,
	1.9875691500e-4, 1.3981999507e-3, 8.3334519073e-3, 4.1665795894e-2, 1.6666665459e-1, 5.0000001201e-1,
	1, 88.7, -87.3, 2,
}

// Sigmoids sets dst[i] = sigmoidf(x[i]), sixteen at a time with AVX-512,
// eight with AVX2, four with NEON (the same operations in the same order,
// so the same bits).
func Sigmoids(dst, x []float32) { activate(dst, x, 1, sigmoidf) }

// Tanhs sets dst[i] = tanhf(x[i]).
func Tanhs(dst, x []float32) { activate(dst, x, 2, tanhf) }

func activate(dst, x []float32, mode int, f func(float32) float32) {
	n := len(x)
	dst = dst[:n]
	done := 0
	if cpu.wide && n >= 16 {
		done = n &^ 15
		activate512(&dst[0], &x[0], done, mode, &expConsts[0])
	}
	if m := (n - done) &^ 7; cpu.vector && m > 0 {
		activateVec(&dst[done], &x[done], m, mode, &expConsts[0])
		done += m
	}
	for i := done; i < n; i++ {
		dst[i] = f(x[i])
	}
}

// sig and tnh are the activations used by the recurrent kernels: the fast
// float32 forms for float32, the standard library's for float64 (which
// gradient checks use).
func sig[T Float](x T) T {
	if v, ok := any(x).(float32); ok {
		return T(sigmoidf(v))
	}
	return T(sigmoid(float64(x)))
}

func tnh[T Float](x T) T {
	if v, ok := any(x).(float32); ok {
		return T(tanhf(v))
	}
	return T(math.Tanh(float64(x)))
}
