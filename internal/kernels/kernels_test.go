package kernels

import (
	"math"
	"slices"
	"testing"
)

func TestReLUFloat32BranchFree(t *testing.T) {
	negZero := float32(math.Copysign(0, -1))
	nan := float32(math.NaN())
	x := []float32{-2, -1e-30, negZero, 0, 1e-30, 3, float32(math.Inf(1)), float32(math.Inf(-1)), nan, -nan, math.MaxFloat32, math.SmallestNonzeroFloat32, -math.SmallestNonzeroFloat32}
	dy := []float32{1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13}
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

// Every path's Adam loops give the Go loops' bits, for float64 weights
// and for float32 ones, over lengths with a tail after the vector loop.
func TestAdamPathsAgree(t *testing.T) {
	n := 37
	mk := func(seed float64) []float64 {
		s := make([]float64, n)
		for i := range s {
			s[i] = math.Sin(seed*float64(i+1)) * 0.1
		}
		return s
	}
	w0, g, m0, v0 := mk(1), mk(2), mk(3), mk(4)
	for i := range v0 {
		v0[i] = math.Abs(v0[i])
	}
	w32, g32, m32, v32 := adamInputs32(4099)
	type result struct {
		w, m, v, m32, v32 []float64
		w32               []float32
	}
	var ref result
	eachPath(t, func(p path) {
		r := result{slices.Clone(w0), slices.Clone(m0), slices.Clone(v0), slices.Clone(m32), slices.Clone(v32), slices.Clone(w32)}
		AdamUpdate(r.w, g, r.m, r.v, 0.9, 0.999, 0.01, 1.2, 1e-8)
		for step := 0; step < 3; step++ {
			AdamUpdate32(r.w32, g32, r.m32, r.v32, 0.9, 0.999, 0.01, 1.2, 1e-8)
		}
		if p == pathGo {
			ref = r
			return
		}
		for i := range r.w {
			if math.Float64bits(r.w[i]) != math.Float64bits(ref.w[i]) || r.m[i] != ref.m[i] || r.v[i] != ref.v[i] {
				t.Fatalf("%s AdamUpdate element %d: %v %v %v, Go %v %v %v", p, i, r.w[i], r.m[i], r.v[i], ref.w[i], ref.m[i], ref.v[i])
			}
		}
		for i := range r.w32 {
			if math.Float32bits(r.w32[i]) != math.Float32bits(ref.w32[i]) || r.m32[i] != ref.m32[i] || r.v32[i] != ref.v32[i] {
				t.Fatalf("%s AdamUpdate32 element %d: %v %v %v, Go %v %v %v", p, i, r.w32[i], r.m32[i], r.v32[i], ref.w32[i], ref.m32[i], ref.v32[i])
			}
		}
	})
}

// Moments below momentFloor become zero on every path, those at it or
// above are kept, and a NaN stays NaN; the vector loops' hard-coded floor
// is the Go constant.
func TestAdamMomentFloor(t *testing.T) {
	eachPath(t, func(p path) { adamMomentFloor(t, p) })
}

func adamMomentFloor(t *testing.T, p path) {
	below := math.Nextafter(momentFloor, 0)
	// m and v before the step, chosen so that after it (β = 0.5, g = 0)
	// they lie just below, at, and above the floor, one of them NaN.
	ms := []float64{2 * below, -2 * below, 2 * momentFloor, -2 * momentFloor, 4 * momentFloor, math.NaN(), 0, 1e-300}
	vs := []float64{2 * below, 2 * momentFloor, 2 * below, 4 * momentFloor, 2 * momentFloor, 1, math.NaN(), 1e-300}
	want := func(x float64) float64 {
		if y := x / 2; math.Abs(y) >= momentFloor || math.IsNaN(y) {
			return y
		}
		return 0
	}
	for _, n := range []int{1, len(ms)} { // the Go loop alone, then the vector loop too
		m, v := slices.Clone(ms), slices.Clone(vs)
		w, g := make([]float64, len(m)), make([]float64, len(m))
		for i := 0; i < len(m); i += n {
			AdamUpdate(w[i:i+n], g[i:i+n], m[i:i+n], v[i:i+n], 0.5, 0.5, 0.01, 1, 1e-8)
		}
		m32, v32 := slices.Clone(ms), slices.Clone(vs)
		w32, g32 := make([]float32, len(m)), make([]float32, len(m))
		for i := 0; i < len(m); i += n {
			AdamUpdate32(w32[i:i+n], g32[i:i+n], m32[i:i+n], v32[i:i+n], 0.5, 0.5, 0.01, 1, 1e-8)
		}
		for i := range ms {
			wm, wv := want(ms[i]), want(vs[i])
			for _, got := range [][2]float64{{m[i], v[i]}, {m32[i], v32[i]}} {
				if math.Float64bits(got[0]) != math.Float64bits(wm) && !(math.IsNaN(got[0]) && math.IsNaN(wm)) ||
					math.Float64bits(got[1]) != math.Float64bits(wv) && !(math.IsNaN(got[1]) && math.IsNaN(wv)) {
					t.Errorf("%s, %d at a time, m %g v %g: got m %g v %g, want %g %g", p, n, ms[i], vs[i], got[0], got[1], wm, wv)
				}
			}
		}
	}
}

// adamInputs32 returns float32 weights and gradients (some zero) and
// float64 moments for the AdamUpdate32 tests.
func adamInputs32(n int) (w32, g32 []float32, m, v []float64) {
	w32, g32 = make([]float32, n), make([]float32, n)
	m, v = make([]float64, n), make([]float64, n)
	for i := range w32 {
		w32[i] = float32(math.Sin(float64(i+1)) * 0.1)
		g32[i] = float32(math.Cos(float64(3*i+1)) * 0.01)
		if i%7 == 0 {
			g32[i] = 0
		}
		m[i] = math.Sin(float64(5*i+2)) * 0.001
		v[i] = math.Abs(math.Sin(float64(7*i+3))) * 1e-5
	}
	return w32, g32, m, v
}

// AdamUpdate32 gives AdamUpdate's bits on widened copies, rounded back
// to float32 (on whichever path this machine runs).
func TestAdamUpdate32MatchesAdamUpdate(t *testing.T) {
	w32, g32, m1, v1 := adamInputs32(4099)
	w64, g64 := make([]float64, len(w32)), make([]float64, len(w32))
	for i := range w32 {
		w64[i], g64[i] = float64(w32[i]), float64(g32[i])
	}
	m2, v2 := slices.Clone(m1), slices.Clone(v1)
	for step := 0; step < 3; step++ {
		AdamUpdate32(w32, g32, m1, v1, 0.9, 0.999, 0.01, 1.2, 1e-8)
		AdamUpdate(w64, g64, m2, v2, 0.9, 0.999, 0.01, 1.2, 1e-8)
		for i := range w64 {
			w64[i] = float64(float32(w64[i]))
		}
	}
	for i := range w32 {
		if math.Float32bits(w32[i]) != math.Float32bits(float32(w64[i])) || m1[i] != m2[i] || v1[i] != v2[i] {
			t.Fatalf("element %d: AdamUpdate32 %v %v %v, AdamUpdate %v %v %v", i, w32[i], m1[i], v1[i], w64[i], m2[i], v2[i])
		}
	}
}

// The 2×2 pools of every path agree with the scalar loop, ties and all,
// for rows narrower and wider than a vector.
func TestMaxPool2x2VectorMatchesScalar(t *testing.T) {
	eachPath(t, func(p path) { maxPool2x2MatchesScalar(t, p) })
}

func maxPool2x2MatchesScalar(t *testing.T, p path) {
	for _, hw := range [][2]int{{26, 26}, {11, 11}, {8, 16}, {4, 9}, {2, 2}, {3, 35}, {6, 64}, {5, 66}} {
		g := NewConvGeom(2, 3, hw[0], hw[1], 2, 2, 2, 2, 0, 0, 0, 0)
		x := make([]float32, 2*3*hw[0]*hw[1])
		for i := range x {
			x[i] = float32(int(math.Sin(float64(i)*1.7)*3)) / 2 // many ties
		}
		y, arg := make([]float32, 2*3*g.OH*g.OW), make([]int32, 2*3*g.OH*g.OW)
		MaxPool(g, x, y, arg)
		x64 := make([]float64, len(x))
		for i, v := range x {
			x64[i] = float64(v)
		}
		y64, arg64 := make([]float64, len(y)), make([]int32, len(y))
		MaxPool(g, x64, y64, arg64)
		for i := range y {
			if float64(y[i]) != y64[i] || arg[i] != arg64[i] {
				t.Fatalf("%v (%s): output %d: vector %g at %d, scalar %g at %d", hw, p, i, y[i], arg[i], y64[i], arg64[i])
			}
		}
	}
}
