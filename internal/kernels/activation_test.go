package kernels

import (
	"math"
	"testing"
)

func TestFastActivationsAccuracy(t *testing.T) {
	worstExp, worstSig, worstTanh := 0.0, 0.0, 0.0
	for x := -87.0; x <= 88; x += 0.00731 {
		f := float32(x)
		want := math.Exp(float64(f))
		if rel := math.Abs(float64(expf(f))-want) / want; rel > worstExp {
			worstExp = rel
		}
		if d := math.Abs(float64(sigmoidf(f)) - 1/(1+math.Exp(-float64(f)))); d > worstSig {
			worstSig = d
		}
		if d := math.Abs(float64(tanhf(f)) - math.Tanh(float64(f))); d > worstTanh {
			worstTanh = d
		}
	}
	if worstExp > 4e-7 || worstSig > 2e-7 || worstTanh > 3e-7 {
		t.Fatalf("worst errors: exp relative %g, sigmoid %g, tanh %g", worstExp, worstSig, worstTanh)
	}
	if expf(100) != float32(math.Inf(1)) || expf(-100) != 0 || tanhf(20) != 1 || sigmoidf(-200) != 0 {
		t.Fatal("saturation")
	}
}

// The activations give the very bits of the scalar ones on every path.
func TestVectorActivationsMatchScalar(t *testing.T) {
	eachPath(t, func(p path) { vectorActivationsMatchScalar(t, p) })
}

func vectorActivationsMatchScalar(t *testing.T, p path) {
	var x []float32
	for v := -100.0; v <= 100; v += 0.0173 {
		x = append(x, float32(v))
	}
	x = append(x, 0, float32(math.Copysign(0, -1)), 88.7, -87.3, 88.71, -87.31, 1e-30, -1e-30)
	x = append(x, 0.25, -0.5, 3) // a tail for the 8-wide loop and one for Go
	for _, c := range []struct {
		name string
		vec  func(dst, x []float32)
		f    func(float32) float32
	}{{"sigmoid", Sigmoids, sigmoidf}, {"tanh", Tanhs, tanhf}} {
		got := make([]float32, len(x))
		c.vec(got, x)
		for i, v := range x {
			if w := c.f(v); math.Float32bits(got[i]) != math.Float32bits(w) {
				t.Fatalf("%s(%g) (%s): vector %g, scalar %g", c.name, v, p, got[i], w)
			}
		}
	}
}
