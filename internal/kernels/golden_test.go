package kernels

import (
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"hash"
	"math"
	"testing"
)

// The bits each path gives, pinned across machines: goldenRun computes
// every kernel that uses no math-library function (whose last bits differ
// between architectures) on fixed inputs, and hashes the results. Every
// vector path (AVX2, AVX-512, NEON) must give goldenVector and the Go path
// goldenGo, on any machine: on this project's amd64 machine for the first
// two, and under qemu-aarch64 (.ci/run) for NEON and for the Go path
// compiled for arm64. A change that moves a path's bits on purpose
// updates the constant, and says why in its commit.
const (
	goldenVector = "3c02b2ea826ab2dd"
	goldenGo     = "bf72a6c77593e94d"
)

func TestPathGoldens(t *testing.T) {
	eachPath(t, func(p path) {
		want := goldenVector
		if p == pathGo {
			want = goldenGo
		}
		if got := goldenRun(); got != want {
			t.Errorf("%s path: results hash to %s, want %s", p, got, want)
		}
	})
}

// goldenInputs returns n values in [-scale, scale) from an integer
// sequence, exact on every machine.
func goldenInputs(n int, seed uint32, scale float32) []float32 {
	s := make([]float32, n)
	x := seed
	for i := range s {
		x = x*1664525 + 1013904223
		s[i] = float32(int32(x>>8)%20000) / 20000 * scale
	}
	return s
}

func to64(s []float32) []float64 {
	o := make([]float64, len(s))
	for i, v := range s {
		o[i] = float64(v)
	}
	return o
}

type goldenHash struct{ hash.Hash }

func (h goldenHash) f32(s ...[]float32) {
	for _, v := range s {
		for _, x := range v {
			binary.Write(h, binary.LittleEndian, math.Float32bits(x))
		}
	}
}

func (h goldenHash) f64(s ...[]float64) {
	for _, v := range s {
		for _, x := range v {
			binary.Write(h, binary.LittleEndian, math.Float64bits(x))
		}
	}
}

func (h goldenHash) i32(s []int32) {
	for _, x := range s {
		binary.Write(h, binary.LittleEndian, x)
	}
}

func goldenRun() string {
	h := goldenHash{sha256.New()}
	// Matrix products: packed, in place (a few rows), one row, every
	// transposition, accumulating, float64.
	for i, sz := range [][3]int{{7, 33, 300}, {13, 50, 17}, {64, 512, 100}, {2, 96, 40}, {1, 70, 9}, {100, 300, 64}} {
		m, n, k := sz[0], sz[1], sz[2]
		for tr := 0; tr < 4; tr++ {
			tA, tB := tr&1 != 0, tr&2 != 0
			lda, ldb := k, n
			if tA {
				lda = m
			}
			if tB {
				ldb = k
			}
			a, b := goldenInputs(m*k, uint32(3*i+tr), 1), goldenInputs(k*n, uint32(5*i+tr+100), 1)
			c := goldenInputs(m*n, uint32(i+200), 1)
			ParallelGemm(tA, tB, m, n, k, a, lda, b, ldb, tr == 3, c, n)
			h.f32(c)
			c64 := to64(goldenInputs(m*n, uint32(i+300), 1))
			Gemm(tA, tB, m, n, k, to64(a), lda, to64(b), ldb, tr == 2, c64, n)
			h.f64(c64)
		}
	}
	// Activations and ReLU.
	x := goldenInputs(1003, 7, 20)
	y := make([]float32, len(x))
	Sigmoids(y, x)
	h.f32(y)
	Tanhs(y, x)
	h.f32(y)
	ReLU(y, x)
	h.f32(y)
	dy := goldenInputs(len(x), 8, 1)
	ReLUGrad(y, x, dy)
	h.f32(y)
	// Adam.
	w, g := goldenInputs(1001, 9, 0.1), goldenInputs(1001, 10, 0.01)
	m, v := to64(goldenInputs(1001, 11, 0.001)), to64(goldenInputs(1001, 12, 1e-5))
	for i := range v {
		v[i] = math.Abs(v[i])
	}
	w64, g64, m64, v64 := to64(w), to64(g), append([]float64(nil), m...), append([]float64(nil), v...)
	for step := 0; step < 3; step++ {
		AdamUpdate32(w, g, m, v, 0.9, 0.999, 0.01, 1.2, 1e-8)
		AdamUpdate(w64, g64, m64, v64, 0.9, 0.999, 0.01, 1.2, 1e-8)
	}
	h.f32(w)
	h.f64(m, v, w64, m64, v64)
	// Pools and convolutions.
	for _, pg := range []ConvGeom{NewConvGeom(2, 3, 10, 13, 2, 2, 2, 2, 0, 0, 0, 0), NewConvGeom(2, 2, 9, 9, 3, 3, 2, 2, 0, 0, 0, 0)} {
		px := goldenInputs(pg.N*pg.C*pg.H*pg.W, 13, 3)
		py, arg := make([]float32, pg.N*pg.C*pg.OH*pg.OW), make([]int32, pg.N*pg.C*pg.OH*pg.OW)
		MaxPool(pg, px, py, arg)
		pdx := make([]float32, len(px))
		MaxPoolGrad(pg, goldenInputs(len(py), 14, 1), py, arg, pdx)
		h.f32(py, pdx)
		h.i32(arg)
	}
	for i, cg := range []struct {
		g  ConvGeom
		oc int
	}{{NewConvGeom(3, 4, 9, 9, 3, 3, 1, 1, 1, 1, 1, 1), 5}, {NewConvGeom(2, 3, 11, 8, 3, 3, 2, 2, 0, 1, 1, 0), 7}, {NewConvGeom(4, 1, 28, 28, 3, 3, 1, 1, 0, 0, 0, 0), 8}, {NewConvGeom(2, 8, 9, 10, 3, 3, 1, 1, 1, 1, 0, 2), 8}} {
		g := cg.g
		ckk, np := g.C*g.KH*g.KW, g.N*g.OH*g.OW
		cx, cw, cb := goldenInputs(g.N*g.C*g.H*g.W, uint32(15+i), 1), goldenInputs(cg.oc*ckk, uint32(16+i), 0.5), goldenInputs(cg.oc, uint32(17+i), 0.1)
		cdy := goldenInputs(cg.oc*np, uint32(18+i), 1)
		cy, cdw, cdx := make([]float32, cg.oc*np), make([]float32, cg.oc*ckk), make([]float32, len(cx))
		var s ConvScratch[float32]
		ConvForward(g, cg.oc, cx, cw, cb, true, cy, &s)
		ConvFilterGrad(g, cg.oc, cx, cdy, cdw, &s)
		ConvInputGrad(g, cg.oc, cw, cdy, cdx, &s)
		sums := make([]float32, cg.oc)
		ChannelSums(cdy, g.N, cg.oc, g.OH*g.OW, sums)
		h.f32(cy, cdw, cdx, sums)
	}
	// Batch and layer norm.
	rows, c, sp := 5, 6, 19
	bx, bdy := goldenInputs(rows*c*sp, 19, 2), goldenInputs(rows*c*sp, 20, 1)
	bw, bb := goldenInputs(c, 21, 1), goldenInputs(c, 22, 1)
	mean, variance, invstd := make([]float64, c), make([]float64, c), make([]float64, c)
	BatchNormStats(bx, rows, c, sp, mean, variance)
	for i := range invstd {
		invstd[i] = 1 / math.Sqrt(variance[i]+1e-5)
	}
	bsums := make([]float32, 2*c)
	BatchNormGradSums(bsums, bx, bdy, rows, c, sp, mean, invstd)
	by, bdx := make([]float32, len(bx)), make([]float32, len(bx))
	BatchNormForward(by, bx, bw, bb, rows, c, sp, mean, invstd)
	BatchNormInputGrad(bdx, bx, bdy, bw, bsums, rows, c, sp, mean, invstd, true)
	h.f64(mean, variance)
	h.f32(bsums, by, bdx)
	d := 37
	lx, ldy := goldenInputs(7*d, 23, 2), goldenInputs(7*d, 24, 1)
	lw, lb := goldenInputs(d, 25, 1), goldenInputs(d, 26, 1)
	lmean, linv := make([]float64, 7), make([]float64, 7)
	ly, ldx, ldw := make([]float32, len(lx)), make([]float32, len(lx)), make([]float32, d)
	LayerNormForward(ly, lx, lw, lb, d, 1e-5, lmean, linv)
	LayerNormInputGrad(ldx, lx, ldy, lw, d, lmean, linv)
	LayerNormWeightGrad(ldw, lx, ldy, lmean, linv)
	h.f64(lmean, linv)
	h.f32(ly, ldx, ldw)
	// Recurrent layers.
	rd := RNNDims{B: 7, T: 5, I: 6, H: 9}
	for _, gates := range []int{4, 3} {
		G := gates * rd.H
		rx := goldenInputs(rd.B*rd.T*rd.I, 27, 1)
		wih, whh := goldenInputs(G*rd.I, 28, 0.4), goldenInputs(G*rd.H, 29, 0.4)
		bih, bhh := goldenInputs(G, 30, 0.1), goldenInputs(G, 31, 0.1)
		hs, dhs := make([]float32, rd.B*rd.T*rd.H), goldenInputs(rd.B*rd.T*rd.H, 32, 1)
		dx, dwih, dwhh := make([]float32, len(rx)), make([]float32, len(wih)), make([]float32, len(whh))
		db, db2, dh0 := make([]float32, G), make([]float32, G), make([]float32, rd.B*rd.H)
		var cache RNNCache[float32]
		if gates == 4 {
			dc0 := make([]float32, rd.B*rd.H)
			LSTMForward(rd, rx, wih, whh, bih, bhh, nil, nil, hs, &cache)
			LSTMBackward(rd, dhs, rx, wih, whh, &cache, dx, dwih, dwhh, db, dh0, dc0)
			h.f32(dc0)
		} else {
			GRUForward(rd, rx, wih, whh, bih, bhh, nil, hs, &cache)
			GRUBackward(rd, dhs, rx, wih, whh, &cache, dx, dwih, dwhh, db, db2, dh0)
		}
		h.f32(hs, dx, dwih, dwhh, db, db2, dh0)
	}
	// Losses without transcendental functions.
	lz, lt, lwt := goldenInputs(6*10, 33, 3), goldenInputs(6*10, 34, 1), goldenInputs(6, 35, 1)
	ldz := make([]float32, len(lz))
	for _, f := range []struct {
		loss func(z, t, w []float32, n int) float64
		grad func(dz, z, t, w []float32, n int, g float64)
	}{{SquaredError[float32], SquaredErrorGrad[float32]}, {Huber[float32], HuberGrad[float32]}, {Linear[float32], LinearGrad[float32]}} {
		h.f64([]float64{f.loss(lz, lt, lwt, 10)})
		f.grad(ldz, lz, lt, lwt, 10, 0.7)
		h.f32(ldz)
	}
	return hex.EncodeToString(h.Sum(nil))[:16]
}
