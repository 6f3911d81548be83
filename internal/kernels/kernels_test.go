package kernels

import (
	"math"
	"testing"
)

func TestReLUFloat32BranchFree(t *testing.T) {
	negZero := float32(math.Copysign(0, -1))
	x := []float32{-2, -1e-30, negZero, 0, 1e-30, 3, float32(math.Inf(1)), float32(math.Inf(-1))}
	dy := []float32{1, 2, 3, 4, 5, 6, 7, 8}
	y, dx := make([]float32, len(x)), make([]float32, len(x))
	ReLU(y, x)
	ReLUGrad(dx, x, dy)
	for i, v := range x {
		wantY, wantDx := float32(0), float32(0)
		if v > 0 {
			wantY, wantDx = v, dy[i]
		}
		if y[i] != wantY || math.Signbit(float64(y[i])) || dx[i] != wantDx {
			t.Errorf("x=%g: relu %g, grad %g; want %g, %g", v, y[i], dx[i], wantY, wantDx)
		}
	}
}
