package kernels

import (
	"fmt"
	"math"
	"math/rand/v2"
	"runtime"
	"testing"
)

// winoGeoms are 3×3 convolutions of stride 1 the Winograd route takes:
// the cnn's second layer (at a smaller batch), "same" padding, asymmetric
// padding up to 3, planes smaller than a tile and not a multiple of its
// side, one image.
func winoGeoms() []convCase {
	return []convCase{
		{NewConvGeom(3, 32, 13, 13, 3, 3, 1, 1, 0, 0, 0, 0), 64},
		{NewConvGeom(2, 8, 10, 9, 3, 3, 1, 1, 1, 1, 1, 1), 9},
		{NewConvGeom(2, 9, 7, 12, 3, 3, 1, 1, 0, 2, 1, 0), 8},
		{NewConvGeom(1, 8, 3, 3, 3, 3, 1, 1, 1, 1, 1, 1), 11},
		{NewConvGeom(2, 10, 5, 6, 3, 3, 1, 1, 2, 2, 2, 2), 8},
		{NewConvGeom(1, 8, 3, 4, 3, 3, 1, 1, 0, 0, 0, 0), 8},
		{NewConvGeom(2, 8, 4, 5, 3, 3, 1, 1, 3, 0, 0, 3), 8},
	}
}

// maxRelErr returns the largest |got - want| over the largest |want|.
func maxRelErr[T Float](got []T, want []float64) float64 {
	var e, m float64
	for i, w := range want {
		e = max(e, math.Abs(float64(got[i])-w))
		m = max(m, math.Abs(w))
	}
	if m == 0 {
		return e
	}
	return e / m
}

// winoPasses runs the three Winograd passes at GOMAXPROCS procs, the
// outputs first filled with garbage (the passes must overwrite them).
func winoPasses[T Float](g ConvGeom, oc int, x, w, bias []T, relu bool, dy []T, procs int, s *winoScratch[T]) (y, dw, dx []T) {
	old := runtime.GOMAXPROCS(procs)
	defer runtime.GOMAXPROCS(old)
	y, dw, dx = make([]T, g.N*oc*g.OH*g.OW), make([]T, oc*g.C*9), make([]T, len(x))
	for _, s := range [][]T{y, dw, dx} {
		for i := range s {
			s[i] = 1e3
		}
	}
	winoForward(g, oc, x, w, bias, relu, y, s)
	winoFilterGrad(g, oc, x, dy, dw, s)
	winoInputGrad(g, oc, w, dy, dx, s)
	return y, dw, dx
}

// The Winograd passes against the explicit convolution computed in
// float64: to float64's rounding in float64 (the transforms are exact in
// exact arithmetic), within 1e-5 of the largest value in float32 (the
// direct products' float32 error is 1e-7 to 5e-7 of it on these shapes,
// Winograd's 2e-6 to 5e-6: its transforms add and subtract values up to 8
// times an input's size); and the same bits for any GOMAXPROCS.
func TestWinogradMatchesDirect(t *testing.T) {
	r := rand.New(rand.NewPCG(41, 42))
	for gi, c := range winoGeoms() {
		g, oc := c.g, c.oc
		if !winogradFits(g, oc) {
			t.Fatalf("#%d %+v oc %d: the Winograd route does not take it", gi, g, oc)
		}
		x, w := randSlice(r, g.N*g.C*g.H*g.W), randSlice(r, oc*g.C*9)
		bias, dy := randSlice(r, oc), randSlice(r, g.N*oc*g.OH*g.OW)
		for _, v := range []struct {
			bias []float64
			relu bool
		}{{bias, true}, {nil, false}} {
			wantY, wantDW, wantDX := convReference(g, oc, x, w, v.bias, v.relu, dy)
			want := [][]float64{wantY, wantDW, wantDX}
			names := []string{"forward", "filter gradient", "input gradient"}

			var s64 winoScratch[float64]
			y, dw, dx := winoPasses(g, oc, x, w, v.bias, v.relu, dy, 1, &s64)
			for i, got := range [][]float64{y, dw, dx} {
				if e := maxRelErr(got, want[i]); e > 1e-13 {
					t.Errorf("float64 #%d %+v oc %d relu %v: %s off by %.3g of its largest value", gi, g, oc, v.relu, names[i], e)
				}
			}

			var s32 winoScratch[float32]
			var first [3][]float32
			var b32 []float32
			if v.bias != nil {
				b32 = to32(v.bias)
			}
			for _, procs := range []int{1, 2, 3} {
				y, dw, dx := winoPasses(g, oc, to32(x), to32(w), b32, v.relu, to32(dy), procs, &s32)
				got := [3][]float32{y, dw, dx}
				for i := range got {
					if procs == 1 {
						if e := maxRelErr(got[i], want[i]); e > 1e-5 {
							t.Errorf("float32 #%d %+v oc %d relu %v: %s off by %.3g of its largest value", gi, g, oc, v.relu, names[i], e)
						}
						first[i] = got[i]
						continue
					}
					if at := sameBits(got[i], first[i]); at >= 0 {
						t.Errorf("float32 #%d GOMAXPROCS %d: %s differs from GOMAXPROCS 1 at %d", gi, procs, names[i], at)
					}
				}
			}
		}
	}
}

// ConvForward, ConvFilterGrad and ConvInputGrad take the Winograd route
// for float32 on the pure-Go path alone, and only where it fits.
func TestWinogradRoute(t *testing.T) {
	fits := NewConvGeom(2, 8, 6, 6, 3, 3, 1, 1, 1, 1, 1, 1)
	for _, c := range []struct {
		g    ConvGeom
		oc   int
		want bool
	}{
		{fits, 8, true},
		{fits, 7, false}, // too few output channels
		{NewConvGeom(2, 7, 6, 6, 3, 3, 1, 1, 1, 1, 1, 1), 8, false}, // too few input channels
		{NewConvGeom(2, 8, 6, 6, 3, 3, 2, 2, 1, 1, 1, 1), 8, false}, // stride 2
		{NewConvGeom(2, 8, 6, 6, 5, 5, 1, 1, 2, 2, 2, 2), 8, false}, // 5×5
		{NewConvGeom(2, 8, 1, 1, 3, 3, 1, 1, 0, 0, 0, 0), 8, false}, // no output
	} {
		if got := winogradFits(c.g, c.oc); got != c.want {
			t.Errorf("%+v oc %d: winogradFits %v, want %v", c.g, c.oc, got, c.want)
		}
	}
	eachPath(t, func(p path) {
		if got, want := useWinograd[float32](fits, 8), p == pathGo; got != want {
			t.Errorf("%s path: float32 takes the Winograd route %v, want %v", p, got, want)
		}
		if useWinograd[float64](fits, 8) {
			t.Errorf("%s path: float64 takes the Winograd route", p)
		}
	})
	// On the Go path the exported passes give the Winograd passes' bits.
	withPath(t, pathGo, func() {
		r := rand.New(rand.NewPCG(43, 44))
		x, w, dy := to32(randSlice(r, 2*8*36)), to32(randSlice(r, 8*8*9)), to32(randSlice(r, 2*8*36))
		var s ConvScratch[float32]
		var ws winoScratch[float32]
		for _, c := range []struct {
			pass       string
			conv, wino func(out []float32)
			size       int
		}{
			{"forward", func(y []float32) { ConvForward(fits, 8, x, w, nil, true, y, &s) }, func(y []float32) { winoForward(fits, 8, x, w, nil, true, y, &ws) }, len(x)},
			{"filter gradient", func(dw []float32) { ConvFilterGrad(fits, 8, x, dy, dw, &s) }, func(dw []float32) { winoFilterGrad(fits, 8, x, dy, dw, &ws) }, len(w)},
			{"input gradient", func(dx []float32) { ConvInputGrad(fits, 8, w, dy, dx, &s) }, func(dx []float32) { winoInputGrad(fits, 8, w, dy, dx, &ws) }, len(x)},
		} {
			got, want := make([]float32, c.size), make([]float32, c.size)
			c.conv(got)
			c.wino(want)
			if at := sameBits(got, want); at >= 0 {
				t.Errorf("%s differs from the Winograd pass at %d", c.pass, at)
			}
		}
	})
}

// BenchmarkWinograd times the Winograd passes of the cnn's second
// convolution at batch 64 on whatever path the machine runs (the pure-Go
// path takes them in ConvForward and the like; the vector paths do not,
// and this tells what they would gain). GFLOP/s counts the direct
// convolution's operations, as BenchmarkConv does.
func BenchmarkWinograd(b *testing.B) {
	r := rand.New(rand.NewPCG(1, 2))
	c := benchConvs[1]
	g := c.g
	x, w := to32(randSlice(r, g.N*g.C*g.H*g.W)), to32(randSlice(r, c.oc*g.C*9))
	bias, y := to32(randSlice(r, c.oc)), make([]float32, g.N*c.oc*g.OH*g.OW)
	dy, dw, dx := to32(randSlice(r, len(y))), make([]float32, c.oc*g.C*9), make([]float32, len(x))
	flops := float64(2 * c.oc * g.C * 9 * g.N * g.OH * g.OW)
	var s winoScratch[float32]
	for _, pass := range []struct {
		name string
		run  func()
	}{
		{"forward", func() { winoForward(g, c.oc, x, w, bias, true, y, &s) }},
		{"filter", func() { winoFilterGrad(g, c.oc, x, dy, dw, &s) }},
		{"input", func() { winoInputGrad(g, c.oc, w, dy, dx, &s) }},
	} {
		b.Run(fmt.Sprintf("%s/%s", c.name, pass.name), func(b *testing.B) {
			for i := 0; i < b.N; i++ {
				pass.run()
			}
			b.ReportMetric(flops*float64(b.N)/b.Elapsed().Seconds()/1e9, "GFLOP/s")
		})
	}
}
