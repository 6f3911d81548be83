package kernels

import (
	"math"
	"math/rand/v2"
	"runtime"
	"testing"
)

// The normalisation loops split channels (batch norm) or rows and columns
// (layer norm) among workers; the results must not depend on how many.
func TestNormLoopsIndependentOfWorkers(t *testing.T) {
	const n, c, s = 16, 64, 256 // batch norm: 4096 values per channel
	x, dy := make([]float32, n*c*s), make([]float32, n*c*s)
	for i := range x {
		x[i] = float32(math.Sin(float64(i)*0.37) * 3)
		dy[i] = float32(math.Cos(float64(i) * 0.11))
	}
	w, b := make([]float32, c), make([]float32, c)
	for i := range w {
		w[i], b[i] = float32(1+0.01*float64(i)), float32(0.1*float64(i))
	}
	run := func() [][]float32 {
		rows := n - 3
		mean, variance, invstd := make([]float64, c), make([]float64, c), make([]float64, c)
		BatchNormStats(x, rows, c, s, mean, variance)
		for i, v := range variance {
			invstd[i] = 1 / math.Sqrt(v+1e-5)
		}
		y, sums, dx := make([]float32, len(x)), make([]float32, 2*c), make([]float32, len(x))
		BatchNormForward(y, x, w, b, rows, c, s, mean, invstd)
		BatchNormGradSums(sums, x, dy, rows, c, s, mean, invstd)
		BatchNormInputGrad(dx, x, dy, w, sums, rows, c, s, mean, invstd, true)
		const d = 64 // layer norm over rows of 64
		lw, lb := make([]float32, d), make([]float32, d)
		copy(lw, w)
		copy(lb, b)
		r := len(x) / d
		lm, li := make([]float64, r), make([]float64, r)
		ly, ldx, ldw := make([]float32, len(x)), make([]float32, len(x)), make([]float32, d)
		LayerNormForward(ly, x, lw, lb, d, 1e-5, lm, li)
		LayerNormInputGrad(ldx, x, dy, lw, d, lm, li)
		LayerNormWeightGrad(ldw, x, dy, lm, li)
		return [][]float32{y, sums, dx, ly, ldx, ldw}
	}
	procs := runtime.GOMAXPROCS(1)
	one := run()
	runtime.GOMAXPROCS(max(procs, 4))
	many := run()
	runtime.GOMAXPROCS(procs)
	for k := range one {
		for i := range one[k] {
			if math.Float32bits(one[k][i]) != math.Float32bits(many[k][i]) {
				t.Fatalf("output %d element %d: one worker %g, several %g", k, i, one[k][i], many[k][i])
			}
		}
	}
	// Padded rows are zero in the output and the input gradient.
	for i := (n - 3) * c * s; i < len(x); i++ {
		if one[0][i] != 0 || one[2][i] != 0 {
			t.Fatalf("padded element %d: y %g dx %g", i, one[0][i], one[2][i])
		}
	}
}

// BatchNormStats and BatchNormGradSums sum several channels side by side;
// each channel must still be summed in its own fixed order (examples,
// then positions), giving the bits of one channel at a time.
func TestBatchNormSumsKeepTheirOrder(t *testing.T) {
	r := rand.New(rand.NewPCG(13, 14))
	for _, sz := range [][3]int{{1, 1, 1}, {3, 3, 5}, {2, 4, 7}, {5, 9, 3}, {8, 32, 169}} {
		rows, c, s := sz[0], sz[1], sz[2]
		x, dy := make([]float32, rows*c*s), make([]float32, rows*c*s)
		for i := range x {
			x[i], dy[i] = float32(r.NormFloat64()), float32(r.NormFloat64())
		}
		mean, variance := make([]float64, c), make([]float64, c)
		BatchNormStats(x, rows, c, s, mean, variance)
		invstd := make([]float64, c)
		for ch := range invstd {
			invstd[ch] = 1 / math.Sqrt(variance[ch]+1e-5)
		}
		sums := make([]float32, 2*c)
		BatchNormGradSums(sums, x, dy, rows, c, s, mean, invstd)
		for ch := 0; ch < c; ch++ {
			sum, sd, sdx := 0.0, 0.0, 0.0
			for rr := 0; rr < rows; rr++ {
				for _, v := range x[(rr*c+ch)*s : (rr*c+ch+1)*s] {
					sum += float64(v)
				}
			}
			mu := sum / float64(rows*s)
			sq := 0.0
			for rr := 0; rr < rows; rr++ {
				o := (rr*c + ch) * s
				for i, v := range x[o : o+s] {
					d := float64(v) - mu
					sq += float64(d * d) // rounded, as the kernels round (no fused multiply-add)
					sd += float64(dy[o+i])
					sdx += float64(float64(dy[o+i]) * (float64(v) - mu))
				}
			}
			if mean[ch] != mu || variance[ch] != sq/float64(rows*s) {
				t.Fatalf("%v channel %d: mean, variance %v, %v; want %v, %v", sz, ch, mean[ch], variance[ch], mu, sq/float64(rows*s))
			}
			if sums[ch] != float32(sd) || sums[c+ch] != float32(sdx*invstd[ch]) {
				t.Fatalf("%v channel %d: sums %v, %v; want %v, %v", sz, ch, sums[ch], sums[c+ch], float32(sd), float32(sdx*invstd[ch]))
			}
		}
	}
}

// Every path's batch-norm loops give the Go loops' bits.
func TestBatchNormPathsAgree(t *testing.T) {
	r := rand.New(rand.NewPCG(15, 16))
	for _, sz := range [][3]int{{2, 3, 1}, {3, 2, 7}, {2, 3, 8}, {4, 5, 19}, {3, 4, 121}} {
		rows, c, s := sz[0], sz[1], sz[2]
		n := (rows + 1) * c * s // one example past rows: zeroed by both
		x, dy, w, b := make([]float32, n), make([]float32, n), make([]float32, c), make([]float32, c)
		for i := range x {
			x[i], dy[i] = float32(r.NormFloat64()*3), float32(r.NormFloat64())
		}
		for i := range w {
			w[i], b[i] = float32(r.NormFloat64()), float32(r.NormFloat64())
		}
		mean, variance, invstd := make([]float64, c), make([]float64, c), make([]float64, c)
		BatchNormStats(x, rows, c, s, mean, variance)
		for i := range invstd {
			invstd[i] = 1 / math.Sqrt(variance[i]+1e-5)
		}
		sums := make([]float32, 2*c)
		BatchNormGradSums(sums, x, dy, rows, c, s, mean, invstd)
		var y0, dx0, dxf0 []float32
		eachPath(t, func(p path) {
			y, dx, dxFixed := make([]float32, n), make([]float32, n), make([]float32, n)
			BatchNormForward(y, x, w, b, rows, c, s, mean, invstd)
			BatchNormInputGrad(dx, x, dy, w, sums, rows, c, s, mean, invstd, true)
			BatchNormInputGrad(dxFixed, x, dy, w, sums, rows, c, s, mean, invstd, false)
			if p == pathGo {
				y0, dx0, dxf0 = y, dx, dxFixed
				return
			}
			for _, c := range []struct {
				name      string
				got, want []float32
			}{{"forward", y, y0}, {"input gradient", dx, dx0}, {"input gradient (fixed statistics)", dxFixed, dxf0}} {
				if i := sameBits(c.got, c.want); i >= 0 {
					t.Fatalf("%v %s: at %d %s gives %v, Go %v", sz, c.name, i, p, c.got[i], c.want[i])
				}
			}
		})
	}
}
