package kernels

import (
	"math"
	"testing"
)

func TestErffAndGELU32(t *testing.T) {
	worst := 0.0
	for x := -7.0; x <= 7; x += 1e-3 {
		got := float64(erff(float32(x)))
		want := math.Erf(float64(float32(x)))
		worst = math.Max(worst, math.Abs(got-want))
	}
	if worst > 2e-7 {
		t.Errorf("erff is off math.Erf by up to %g", worst)
	}
	for _, tanh := range []bool{false, true} {
		x64 := make([]float64, 4001)
		x32 := make([]float32, len(x64))
		for i := range x64 {
			x32[i] = float32(-10 + float64(i)*0.005)
			x64[i] = float64(x32[i])
		}
		y64, y32 := make([]float64, len(x64)), make([]float32, len(x64))
		GELU(y64, x64, tanh)
		GELU(y32, x32, tanh)
		g64, g32 := make([]float64, len(x64)), make([]float32, len(x64))
		ones64, ones32 := make([]float64, len(x64)), make([]float32, len(x64))
		for i := range ones64 {
			ones64[i], ones32[i] = 1, 1
		}
		GELUGrad(g64, x64, ones64, tanh)
		GELUGrad(g32, x32, ones32, tanh)
		for i := range x64 {
			if math.Abs(float64(y32[i])-y64[i]) > 1e-6*math.Max(1, math.Abs(y64[i])) ||
				math.Abs(float64(g32[i])-g64[i]) > 2e-6 {
				t.Fatalf("tanh %v: GELU(%g) = %g, %g in float32; gradient %g, %g", tanh, x64[i], y64[i], y32[i], g64[i], g32[i])
			}
		}
	}
	// Hand-computed: GELU(1) = Φ(1) = 0.8413447460685429; tanh form 0.8411919906082768.
	y := make([]float64, 1)
	GELU(y, []float64{1}, false)
	if math.Abs(y[0]-0.8413447460685429) > 1e-15 {
		t.Errorf("GELU(1) = %.16g", y[0])
	}
	GELU(y, []float64{1}, true)
	if math.Abs(y[0]-0.8411919906082768) > 1e-15 {
		t.Errorf("tanh GELU(1) = %.16g", y[0])
	}
}
