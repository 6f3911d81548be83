package kernels

import (
	"fmt"
	"math"
	"math/rand/v2"
	"runtime"
	"testing"
)

// convCase is a convolution to test: its geometry and its filters.
type convCase = struct {
	g  ConvGeom
	oc int
}

// convGeoms covers the cnn's layers (at a smaller batch), strides,
// asymmetric and oversized padding, 1×1 and wide windows, planes smaller
// and larger than a block of nc columns, and batches that do not fill the
// last chunk of images.
func convGeoms() []convCase {
	return []convCase{
		{NewConvGeom(5, 1, 28, 28, 3, 3, 1, 1, 0, 0, 0, 0), 32},
		{NewConvGeom(11, 32, 13, 13, 3, 3, 1, 1, 0, 0, 0, 0), 64},
		{NewConvGeom(3, 3, 7, 9, 3, 3, 2, 2, 1, 1, 1, 1), 5},
		{NewConvGeom(2, 2, 6, 5, 3, 2, 2, 1, 1, 1, 0, 1), 3},
		{NewConvGeom(4, 4, 5, 5, 1, 1, 1, 1, 0, 0, 0, 0), 7},
		{NewConvGeom(2, 3, 4, 4, 3, 3, 1, 1, 2, 3, 3, 2), 4},
		{NewConvGeom(2, 2, 3, 8, 5, 5, 1, 1, 2, 2, 2, 2), 6},
		{NewConvGeom(3, 2, 40, 40, 3, 3, 1, 1, 1, 1, 1, 1), 13},
		{NewConvGeom(9, 1, 1, 1, 3, 3, 2, 2, 0, 2, 1, 1), 2},
	}
}

// convReference computes the three passes the explicit way: the im2col
// matrix, one product over the batch in channel layout, and a plain loop
// for Col2im, in the order each element was always summed in.
func convReference[T Float](g ConvGeom, oc int, x, w, bias []T, relu bool, dy []T) (y, dw, dx []T) {
	ckk, np, grid := g.C*g.KH*g.KW, g.N*g.OH*g.OW, g.OH*g.OW
	cols := make([]T, ckk*np)
	im2colRef(g, x, cols)
	ych := make([]T, oc*np)
	Gemm(false, false, oc, np, ckk, w, ckk, cols, np, false, ych, np)
	y = make([]T, oc*np)
	channelsToNCHWRef(ych, g.N, oc, grid, bias, relu, y)

	dyc := make([]T, oc*np)
	nchwToChannelsRef(dy, nil, g.N, oc, grid, dyc)
	dw = make([]T, oc*ckk)
	Gemm(false, true, oc, ckk, np, dyc, np, cols, np, false, dw, ckk)

	dcols := make([]T, ckk*np)
	Gemm(true, false, ckk, np, oc, w, ckk, dyc, np, false, dcols, np)
	dx = make([]T, len(x))
	for n := 0; n < g.N; n++ {
		for c := 0; c < g.C; c++ {
			plane := dx[(n*g.C+c)*g.H*g.W : (n*g.C+c+1)*g.H*g.W]
			for i := 0; i < g.KH; i++ {
				for j := 0; j < g.KW; j++ {
					row := dcols[((c*g.KH+i)*g.KW+j)*np+n*grid:]
					for oh := 0; oh < g.OH; oh++ {
						for ow := 0; ow < g.OW; ow++ {
							ih, iw := oh*g.SH+i-g.PadT, ow*g.SW+j-g.PadL
							if ih >= 0 && ih < g.H && iw >= 0 && iw < g.W {
								plane[ih*g.W+iw] += row[oh*g.OW+ow]
							}
						}
					}
				}
			}
		}
	}
	return y, dw, dx
}

func sameBitsT[T Float](a, b []T) int {
	for i := range a {
		if float64(a[i]) != float64(b[i]) || math.Signbit(float64(a[i])) != math.Signbit(float64(b[i])) {
			if !(a[i] != a[i] && b[i] != b[i]) { // both NaN
				return i
			}
		}
	}
	return -1
}

func checkConv[T Float](t *testing.T, name string, g ConvGeom, oc int, r *rand.Rand) {
	t.Helper()
	if useWinograd[T](g, oc) {
		return // not the explicit computation's bits: TestWinogradMatchesDirect
	}
	ckk, np := g.C*g.KH*g.KW, g.N*g.OH*g.OW
	rnd := func(n int) []T {
		s := make([]T, n)
		for i := range s {
			s[i] = T(r.NormFloat64())
		}
		return s
	}
	x, w, bias, dy := rnd(g.N*g.C*g.H*g.W), rnd(oc*ckk), rnd(oc), rnd(oc*np)
	variants := []struct {
		bias []T
		relu bool
	}{{bias, true}, {nil, false}, {nil, true}, {bias, false}}
	procsList := []int{1, 2, 3}
	if testing.Short() { // under an emulator (.ci/run's arm64 run): half the variants
		variants, procsList = variants[:2], procsList[:2]
	}
	for _, v := range variants {
		wantY, wantDW, wantDX := convReference(g, oc, x, w, v.bias, v.relu, dy)
		var s ConvScratch[T]
		for _, procs := range procsList {
			old := runtime.GOMAXPROCS(procs)
			y, dw, dx := make([]T, len(wantY)), make([]T, len(wantDW)), make([]T, len(wantDX))
			for i := range dx { // the passes must overwrite, not add
				dx[i] = 1e3
			}
			ConvForward(g, oc, x, w, v.bias, v.relu, y, &s)
			ConvFilterGrad(g, oc, x, dy, dw, &s)
			ConvInputGrad(g, oc, w, dy, dx, &s)
			runtime.GOMAXPROCS(old)
			for _, c := range []struct {
				pass      string
				got, want []T
			}{{"forward", y, wantY}, {"filter gradient", dw, wantDW}, {"input gradient", dx, wantDX}} {
				if i := sameBitsT(c.got, c.want); i >= 0 {
					t.Fatalf("%s %+v oc %d bias %v relu %v GOMAXPROCS %d: %s differs from the explicit computation at %d: %v, want %v",
						name, g, oc, v.bias != nil, v.relu, procs, c.pass, i, c.got[i], c.want[i])
				}
			}
		}
	}
}

// The implicit convolution (patches packed from the image, chunked by
// images, Col2im per chunk) must give exactly the bits of the explicit
// im2col computation, on every float32 path the machine supports (matrix
// product and packing), in float64, and for any GOMAXPROCS: the published
// weight hashes rest on it. (The pure-Go path's Winograd route, which
// some geometries take in float32, is checked by TestWinogradMatchesDirect.)
func TestConvMatchesExplicit(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	for gi, c := range convGeoms() {
		checkConv[float64](t, fmt.Sprintf("float64 #%d", gi), c.g, c.oc, r)
		eachPath(t, func(p path) {
			checkConv[float32](t, fmt.Sprintf("float32 #%d path %s", gi, p), c.g, c.oc, r)
		})
	}
}

// Every path's packing loops against the Go loops on lengths around the
// vector widths, including negative (padding) indices.
func TestPackingLoopsAgree(t *testing.T) {
	for _, p := range allPaths[1:] {
		if supported(p) {
			packingLoopsAgree(t, p)
		}
	}
}

func packingLoopsAgree(t *testing.T, p path) {
	r := rand.New(rand.NewPCG(9, 10))
	// run runs fn on path p (vector) or on pathGo.
	run := func(vector bool, fn func()) {
		q := pathGo
		if vector {
			q = p
		}
		withPath(t, q, fn)
	}
	for _, n := range []int{1, 5, 15, 16, 17, 31, 32, 33, 100, 256} {
		src := make([]float32, 50)
		for i := range src {
			src[i] = float32(r.NormFloat64())
		}
		idx := make([]int32, n)
		for i := range idx {
			idx[i] = int32(r.IntN(60)) - 10 // some negative
		}
		var got, want []float32
		run(true, func() { got = make([]float32, n); gather(got, src, idx) })
		run(false, func() { want = make([]float32, n); gather(want, src, idx) })
		if i := sameBits(got, want); i >= 0 {
			t.Fatalf("%s gather n %d: at %d %v, want %v", p, n, i, got[i], want[i])
		}

		vals := []float32{float32(math.NaN()), float32(math.Copysign(0, -1)), 0, -1, 2}
		in := make([]float32, n)
		for i := range in {
			in[i] = vals[r.IntN(len(vals))] + float32(r.IntN(2))*float32(r.NormFloat64())
		}
		for _, relu := range []bool{false, true} {
			run(true, func() { got = make([]float32, n); addBiasReLU(got, in, 0.25, relu) })
			run(false, func() { want = make([]float32, n); addBiasReLU(want, in, 0.25, relu) })
			if i := sameBits(got, want); i >= 0 {
				t.Fatalf("%s addBiasReLU n %d relu %v: at %d %v, want %v", p, n, relu, i, got[i], want[i])
			}
		}

		var rows [nr][]float32
		for l := range rows {
			rows[l] = make([]float32, n)
			for p := range rows[l] {
				rows[l][p] = float32(l*1000 + p)
			}
		}
		var rowsA [mr][]float32
		copy(rowsA[:], rows[:mr])
		run(true, func() { got = make([]float32, n*mr); interleaveA(got, &rowsA, n) })
		run(false, func() { want = make([]float32, n*mr); interleaveA(want, &rowsA, n) })
		if i := sameBits(got, want); i >= 0 {
			t.Fatalf("%s interleaveA n %d: at %d %v, want %v", p, n, i, got[i], want[i])
		}
		run(true, func() { got = make([]float32, n*nr); interleaveB(got, &rows, n) })
		run(false, func() { want = make([]float32, n*nr); interleaveB(want, &rows, n) })
		if i := sameBits(got, want); i >= 0 {
			t.Fatalf("%s interleaveB n %d: at %d %v, want %v", p, n, i, got[i], want[i])
		}

		for _, width := range []int{1, 11, 16, 20, 33} {
			rowsN := 1 + n%5
			dst0 := make([]float32, rowsN*40)
			for i := range dst0 {
				dst0[i] = float32(r.NormFloat64())
			}
			add := make([]float32, rowsN*35)
			for i := range add {
				add[i] = float32(r.NormFloat64())
			}
			got, want = append([]float32(nil), dst0...), append([]float32(nil), dst0...)
			run(true, func() { addRows(got, 40, add, 35, rowsN, width) })
			run(false, func() { addRows(want, 40, add, 35, rowsN, width) })
			if i := sameBits(got, want); i >= 0 {
				t.Fatalf("%s addRows rows %d width %d: at %d %v, want %v", p, rowsN, width, i, got[i], want[i])
			}
		}
	}
}

// ChannelSums sums each channel in image-then-position order, whichever
// channels share a loop, for any GOMAXPROCS.
func TestChannelSums(t *testing.T) {
	r := rand.New(rand.NewPCG(11, 12))
	for _, sz := range [][3]int{{1, 1, 1}, {3, 7, 5}, {2, 8, 9}, {4, 17, 13}, {64, 32, 676}} {
		n, c, p := sz[0], sz[1], sz[2]
		dy := make([]float32, n*c*p)
		for i := range dy {
			dy[i] = float32(r.NormFloat64())
		}
		want := make([]float32, c)
		for ch := range want {
			var acc float32
			for i := 0; i < n; i++ {
				for _, v := range dy[(i*c+ch)*p : (i*c+ch+1)*p] {
					acc += v
				}
			}
			want[ch] = acc
		}
		for _, procs := range []int{1, 2, 3} {
			old := runtime.GOMAXPROCS(procs)
			got := make([]float32, c)
			ChannelSums(dy, n, c, p, got)
			runtime.GOMAXPROCS(old)
			if i := sameBits(got, want); i >= 0 {
				t.Fatalf("%v GOMAXPROCS %d: channel %d sums to %v, want %v", sz, procs, i, got[i], want[i])
			}
		}
	}
}

// MaxPoolGrad with the pooled output folds in the ReLU's gradient: the
// same bits as MaxPoolGrad followed by ReLUGrad over the ReLU's output.
func TestMaxPoolGradAfterReLU(t *testing.T) {
	r := rand.New(rand.NewPCG(19, 20))
	for _, g := range []ConvGeom{
		NewConvGeom(3, 2, 8, 8, 2, 2, 2, 2, 0, 0, 0, 0),
		NewConvGeom(2, 3, 7, 9, 3, 3, 2, 2, 0, 0, 0, 0),
		NewConvGeom(2, 2, 6, 6, 3, 3, 1, 1, 0, 0, 0, 0),
	} {
		x := make([]float32, g.N*g.C*g.H*g.W)
		for i := range x {
			x[i] = max(0, float32(r.NormFloat64())) // a ReLU's output: many zeros
		}
		y, arg := make([]float32, g.N*g.C*g.OH*g.OW), make([]int32, g.N*g.C*g.OH*g.OW)
		MaxPool(g, x, y, arg)
		dy := make([]float32, len(y))
		for i := range dy {
			dy[i] = float32(r.NormFloat64())
		}
		want, got := make([]float32, len(x)), make([]float32, len(x))
		MaxPoolGrad(g, dy, nil, arg, want)
		ReLUGrad(want, x, want)
		MaxPoolGrad(g, dy, y, arg, got)
		if i := sameBits(got, want); i >= 0 {
			t.Fatalf("%+v: at %d %v, want %v", g, i, got[i], want[i])
		}
	}
}

// gatherRuns, which copies the runs of consecutive values a patch table
// reads, sets what gather sets, on every path, for padded, strided and
// plain tables and segments starting anywhere in a row.
func TestGatherRunsMatchesGather(t *testing.T) {
	r := rand.New(rand.NewPCG(21, 22))
	for _, g := range []ConvGeom{
		NewConvGeom(1, 1, 13, 13, 3, 3, 1, 1, 0, 0, 0, 0),
		NewConvGeom(1, 1, 28, 28, 3, 3, 1, 1, 0, 0, 0, 0),
		NewConvGeom(1, 1, 20, 20, 5, 5, 1, 1, 2, 2, 2, 2),
		NewConvGeom(1, 1, 30, 40, 3, 3, 2, 2, 1, 1, 1, 1),
		NewConvGeom(1, 1, 9, 33, 1, 7, 1, 1, 0, 0, 3, 3),
	} {
		table, grid := PatchTable(g), g.OH*g.OW
		runs := runLengths(table, grid)
		src := make([]float32, g.H*g.W)
		for i := range src {
			src[i] = float32(r.NormFloat64())
		}
		eachPath(t, func(p path) {
			for trial := 0; trial < 200; trial++ {
				row := r.IntN(g.KH*g.KW) * grid
				pos := r.IntN(grid)
				n := r.IntN(grid - pos + 1)
				got, want := make([]float32, n), make([]float32, n)
				for i := range got {
					got[i], want[i] = float32(i+1), float32(-i-1) // overwritten
				}
				gatherRuns(got, src, table[row+pos:row+pos+n], runs[row+pos:row+pos+n])
				withPath(t, pathGo, func() { gather(want, src, table[row+pos:row+pos+n]) })
				if i := sameBits(got, want); i >= 0 {
					t.Fatalf("%s %+v row %d pos %d n %d: at %d %v, want %v", p, g, row/grid, pos, n, i, got[i], want[i])
				}
			}
		})
	}
}
