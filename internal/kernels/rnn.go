package kernels

import "runtime"

// RNNDims are the sizes of a recurrent layer over a batch: B sequences of
// T steps of I inputs, H hidden units.
type RNNDims struct{ B, T, I, H int }

// RNNCache holds what a recurrent forward pass keeps for its backward pass.
type RNNCache[T Float] struct {
	XW    []T // input projections x·W_ihᵀ + b_ih, [B, T, G·H]
	Gates []T // activated gates per step, [T, B, G·H]
	HN    []T // GRU only: W_hn·h + b_hn per step, [T, B, H]
	C     []T // LSTM only: cell states, [T+1, B, H] (C[0] is the initial state)
	tc    []T // LSTM only: each worker's tanh of one row of cell states, [workers, H]
	Hs    []T // hidden states time-major, [T+1, B, H] (Hs[0] is the initial state)
	hh    []T // scratch: h·W_hhᵀ for one step, [B, G·H]
	dG    []T // gate gradients (pre-activation), [B, T, G·H]: XW's memory, which the backward pass no longer needs
	dGh   []T // GRU: hidden-side gate gradients, [B, T, G·H]
	dh    []T // scratch [B, H]
	dc    []T // scratch [B, H]
	whhT  []T // W_hhᵀ packed once for the forward pass's steps
	whhN  []T // W_hh packed once for the backward pass's steps
}

// packRecurrent packs W_hh ([G, H]) once for the T products of a pass:
// as W_hhᵀ for the forward pass (trans), as W_hh for the backward pass.
func (c *RNNCache[T]) packRecurrent(whh []T, g, h int, trans bool) packed[T] {
	if trans {
		p := packWhole(c.whhT, denseB[T]{true, whh, h}, g, h, nr)
		c.whhT = p.p
		return p
	}
	p := packWhole(c.whhN, denseB[T]{false, whh, h}, h, g, nr)
	c.whhN = p.p
	return p
}

func (c *RNNCache[T]) ensure(d RNNDims, g int, lstm bool) {
	gh := g * d.H
	c.XW = grow(c.XW, d.B*d.T*gh)
	c.Gates = grow(c.Gates, d.T*d.B*gh)
	c.Hs = grow(c.Hs, (d.T+1)*d.B*d.H)
	c.hh = grow(c.hh, d.B*gh)
	if lstm {
		c.C = grow(c.C, (d.T+1)*d.B*d.H)
		c.tc = grow(c.tc, runtime.GOMAXPROCS(0)*d.H)
	} else {
		c.HN = grow(c.HN, d.T*d.B*d.H)
	}
}

// LSTMForward runs an LSTM with PyTorch's equations and gate order (i, f,
// g, o) over x [B, T, I]: wih [4H, I], whh [4H, H], biases [4H] (nil: none),
// initial states h0, c0 [B, H] (nil: zeros). It writes every hidden state
// to hs [B, T, H] and keeps what the backward pass needs in cache.
func LSTMForward[T Float](d RNNDims, x, wih, whh, bih, bhh, h0, c0, hs []T, cache *RNNCache[T]) {
	B, Tn, H := d.B, d.T, d.H
	G := 4 * H
	cache.ensure(d, 4, true)
	inputProjection(d, G, x, wih, bih, cache.XW)
	initState(cache.Hs[:B*H], h0)
	initState(cache.C[:B*H], c0)
	wp := cache.packRecurrent(whh, G, H, true)
	batchRows(B, 2*Tn*B*G*H, func(worker, b0, b1 int) {
		tc := cache.tc[worker*H : (worker+1)*H]
		for t := 0; t < Tn; t++ {
			hPrev := cache.Hs[t*B*H : (t+1)*B*H]
			gemmRange(b0, b1, 0, G, H, denseA[T]{false, hPrev, H}, wp, false, cache.hh, G)
			cPrev := cache.C[t*B*H : (t+1)*B*H]
			cNext := cache.C[(t+1)*B*H : (t+2)*B*H]
			hNext := cache.Hs[(t+1)*B*H : (t+2)*B*H]
			gates := cache.Gates[t*B*G : (t+1)*B*G]
			for b := b0; b < b1; b++ {
				xw := cache.XW[(b*Tn+t)*G : (b*Tn+t+1)*G]
				hh := cache.hh[b*G : (b+1)*G]
				gt := gates[b*G : (b+1)*G]
				for j := range gt {
					v := xw[j] + hh[j]
					if bhh != nil {
						v += bhh[j]
					}
					gt[j] = v
				}
				sigmoids(gt[:2*H], gt[:2*H])
				tanhs(gt[2*H:3*H], gt[2*H:3*H])
				sigmoids(gt[3*H:], gt[3*H:])
				c := cNext[b*H : (b+1)*H]
				for j := range c {
					c[j] = T(gt[H+j]*cPrev[b*H+j]) + T(gt[j]*gt[2*H+j])
				}
				tanhs(tc, c)
				for j, o := range gt[3*H:] {
					h := o * tc[j]
					hNext[b*H+j] = h
					hs[(b*Tn+t)*H+j] = h
				}
			}
		}
	})
}

// LSTMBackward computes the gradients of an LSTM from dhs [B, T, H], the
// gradient of every hidden state output, using the cache of the forward
// pass. dx [B, T, I], dwih, dwhh, db [4H] (the gradient of each bias), dh0
// and dc0 [B, H] are overwritten; any of dx, dh0, dc0 may be nil.
func LSTMBackward[T Float](d RNNDims, dhs, x, wih, whh []T, cache *RNNCache[T], dx, dwih, dwhh, db, dh0, dc0 []T) {
	B, Tn, H := d.B, d.T, d.H
	G := 4 * H
	cache.dG = cache.XW[:B*Tn*G]
	cache.dh = grow(cache.dh, B*H)
	cache.dc = grow(cache.dc, B*H)
	clear(cache.dh)
	clear(cache.dc)
	wp := cache.packRecurrent(whh, G, H, false)
	batchRows(B, 2*Tn*B*G*H, func(worker, b0, b1 int) {
		tcs := cache.tc[worker*H : (worker+1)*H]
		for t := Tn - 1; t >= 0; t-- {
			gates := cache.Gates[t*B*G : (t+1)*B*G]
			cPrev := cache.C[t*B*H : (t+1)*B*H]
			cNext := cache.C[(t+1)*B*H : (t+2)*B*H]
			for b := b0; b < b1; b++ {
				gt := gates[b*G : (b+1)*G]
				dg := cache.dG[(b*Tn+t)*G : (b*Tn+t+1)*G]
				tanhs(tcs, cNext[b*H:(b+1)*H]) // as the forward pass computed them
				for j := 0; j < H; j++ {
					i, f, g, o := gt[j], gt[H+j], gt[2*H+j], gt[3*H+j]
					dh := cache.dh[b*H+j] + dhs[(b*Tn+t)*H+j]
					tc := tcs[j]
					dc := cache.dc[b*H+j] + T(dh*o*(1-T(tc*tc)))
					dg[j] = dc * g * i * (1 - i)
					dg[H+j] = dc * cPrev[b*H+j] * f * (1 - f)
					dg[2*H+j] = dc * i * (1 - T(g*g))
					dg[3*H+j] = dh * tc * o * (1 - o)
					cache.dc[b*H+j] = dc * f
				}
			}
			// dh_{t-1} = dgates_t · W_hh, from the rows of step t.
			gemmRange(b0, b1, 0, H, G, denseA[T]{false, cache.dG[t*G:], Tn * G}, wp, false, cache.dh, H)
		}
	})
	if dh0 != nil {
		copy(dh0, cache.dh)
	}
	if dc0 != nil {
		copy(dc0, cache.dc)
	}
	weightGrads(d, G, x, cache, cache.dG, cache.dG, dx, wih, dwih, dwhh, db, nil)
}

// GRUForward runs a GRU with PyTorch's equations and gate order (r, z, n):
//
//	r = σ(W_ir x + b_ir + W_hr h + b_hr)
//	z = σ(W_iz x + b_iz + W_hz h + b_hz)
//	n = tanh(W_in x + b_in + r ⊙ (W_hn h + b_hn))
//	h' = (1 - z) ⊙ n + z ⊙ h
//
// with wih [3H, I], whh [3H, H], biases [3H] (nil: none), h0 [B, H] (nil:
// zeros); every hidden state goes to hs [B, T, H].
func GRUForward[T Float](d RNNDims, x, wih, whh, bih, bhh, h0, hs []T, cache *RNNCache[T]) {
	B, Tn, H := d.B, d.T, d.H
	G := 3 * H
	cache.ensure(d, 3, false)
	inputProjection(d, G, x, wih, bih, cache.XW)
	initState(cache.Hs[:B*H], h0)
	wp := cache.packRecurrent(whh, G, H, true)
	batchRows(B, 2*Tn*B*G*H, func(_, b0, b1 int) {
		for t := 0; t < Tn; t++ {
			hPrev := cache.Hs[t*B*H : (t+1)*B*H]
			gemmRange(b0, b1, 0, G, H, denseA[T]{false, hPrev, H}, wp, false, cache.hh, G)
			hNext := cache.Hs[(t+1)*B*H : (t+2)*B*H]
			gates := cache.Gates[t*B*G : (t+1)*B*G]
			hn := cache.HN[t*B*H : (t+1)*B*H]
			for b := b0; b < b1; b++ {
				xw := cache.XW[(b*Tn+t)*G : (b*Tn+t+1)*G]
				hh := cache.hh[b*G : (b+1)*G]
				gt := gates[b*G : (b+1)*G]
				hnb := hn[b*H : (b+1)*H]
				for j := 0; j < 2*H; j++ {
					v := hh[j]
					if bhh != nil {
						v += bhh[j]
					}
					gt[j] = xw[j] + v
				}
				sigmoids(gt[:2*H], gt[:2*H])
				for j := range hnb {
					v := hh[2*H+j]
					if bhh != nil {
						v += bhh[2*H+j]
					}
					hnb[j] = v
					gt[2*H+j] = xw[2*H+j] + T(gt[j]*v)
				}
				tanhs(gt[2*H:], gt[2*H:])
				for j := 0; j < H; j++ {
					z, n := gt[H+j], gt[2*H+j]
					h := T((1-z)*n) + T(z*hPrev[b*H+j])
					hNext[b*H+j] = h
					hs[(b*Tn+t)*H+j] = h
				}
			}
		}
	})
}

// GRUBackward is LSTMBackward for GRUForward; dbih and dbhh [3H] differ in
// the n gate, where r scales the hidden side.
func GRUBackward[T Float](d RNNDims, dhs, x, wih, whh []T, cache *RNNCache[T], dx, dwih, dwhh, dbih, dbhh, dh0 []T) {
	B, Tn, H := d.B, d.T, d.H
	G := 3 * H
	cache.dG = cache.XW[:B*Tn*G]
	cache.dGh = grow(cache.dGh, B*Tn*G)
	cache.dh = grow(cache.dh, B*H)
	clear(cache.dh)
	wp := cache.packRecurrent(whh, G, H, false)
	batchRows(B, 2*Tn*B*G*H, func(_, b0, b1 int) {
		for t := Tn - 1; t >= 0; t-- {
			gates := cache.Gates[t*B*G : (t+1)*B*G]
			hPrev := cache.Hs[t*B*H : (t+1)*B*H]
			hn := cache.HN[t*B*H : (t+1)*B*H]
			for b := b0; b < b1; b++ {
				gt := gates[b*G : (b+1)*G]
				dgx := cache.dG[(b*Tn+t)*G : (b*Tn+t+1)*G]
				dgh := cache.dGh[(b*Tn+t)*G : (b*Tn+t+1)*G]
				for j := 0; j < H; j++ {
					r, z, n := gt[j], gt[H+j], gt[2*H+j]
					dh := cache.dh[b*H+j] + dhs[(b*Tn+t)*H+j]
					dn := dh * (1 - z) * (1 - T(n*n))
					dz := dh * (hPrev[b*H+j] - n) * z * (1 - z)
					dr := dn * hn[b*H+j] * r * (1 - r)
					dgx[j], dgx[H+j], dgx[2*H+j] = dr, dz, dn
					dgh[j], dgh[H+j], dgh[2*H+j] = dr, dz, dn*r
					cache.dh[b*H+j] = dh * z // the direct path; W_hh's part is added below
				}
			}
			gemmRange(b0, b1, 0, H, G, denseA[T]{false, cache.dGh[t*G:], Tn * G}, wp, true, cache.dh, H)
		}
	})
	if dh0 != nil {
		copy(dh0, cache.dh)
	}
	weightGrads(d, G, x, cache, cache.dG, cache.dGh, dx, wih, dwih, dwhh, dbih, dbhh)
}

// batchRows runs fn over the batch's B rows split among workers in whole
// A panels (mr rows): a recurrent step's product and gates for row b read
// only row b's previous state, so each worker runs every step of a pass on
// its own rows, with one fork and join per pass rather than two per step.
// work is the pass's floating-point operations; below what is worth
// splitting, one worker runs all rows. Each value is computed as a split
// by steps would compute it.
func batchRows(b, work int, fn func(worker, b0, b1 int)) {
	panels := (b + mr - 1) / mr
	grain := 1
	if work < 1<<20 {
		grain = panels
	}
	parallelWorkers(panels, grain, func(w, lo, hi int) { fn(w, lo*mr, min(hi*mr, b)) })
}

// prevStates is the matrix [B·T, H] whose row (b, t) is the hidden state
// before step t of sequence b, Hs[t][b], as a B operand.
type prevStates[T Float] struct {
	hs       []T
	b, tn, h int
}

func (s prevStates[T]) pack(buf *[]T, j0, count, p0, kb int) []T {
	panels := (count + nr - 1) / nr
	*buf = grow(*buf, panels*nr*kb)
	dst := *buf
	for p := 0; p < kb; p++ {
		b, t := (p0+p)/s.tn, (p0+p)%s.tn
		row := s.hs[(t*s.b+b)*s.h+j0 : (t*s.b+b)*s.h+j0+count]
		for jp := 0; jp < panels; jp++ {
			d := dst[jp*nr*kb+p*nr : jp*nr*kb+p*nr+nr]
			n := copy(d, row[jp*nr:])
			clear(d[n:])
		}
	}
	return dst
}

// inputProjection sets xw [B·T, G] = x [B·T, I] · wihᵀ + bih.
func inputProjection[T Float](d RNNDims, G int, x, wih, bih, xw []T) {
	ParallelGemm(false, true, d.B*d.T, G, d.I, x, d.I, wih, d.I, false, xw, G)
	if bih != nil {
		ParallelFor(d.B*d.T, 64, func(lo, hi int) {
			for r := lo; r < hi; r++ {
				row := xw[r*G : (r+1)*G]
				for j, b := range bih {
					row[j] += b
				}
			}
		})
	}
}

func initState[T Float](dst, src []T) {
	if src == nil {
		clear(dst)
	} else {
		copy(dst, src)
	}
}

// weightGrads finishes a recurrent backward pass with one large product
// each: dx = dGx·W_ih, dW_ih = dGxᵀ·x, dW_hh = dGhᵀ·h_prev, and the bias
// gradients as column sums (dbhh nil: the same as dbih, as in the LSTM).
func weightGrads[T Float](d RNNDims, G int, x []T, cache *RNNCache[T], dGx, dGh, dx, wih, dwih, dwhh, dbih, dbhh []T) {
	B, Tn, H := d.B, d.T, d.H
	if dx != nil {
		ParallelGemm(false, false, B*Tn, d.I, G, dGx, G, wih, d.I, false, dx, d.I)
	}
	ParallelGemm(true, false, G, d.I, B*Tn, dGx, G, x, d.I, false, dwih, d.I)
	// The previous hidden states batch-major, read from the time-major Hs:
	// row (b, t) = Hs[t][b].
	parallelGemmRange(G, H, B*Tn, denseA[T]{true, dGh, G}, prevStates[T]{cache.Hs, B, Tn, H}, false, dwhh, H)
	SumRows(dbih, dGx)
	if dbhh != nil {
		SumRows(dbhh, dGh)
	}
}

// sigmoids and tanhs apply the activations to a slice: Sigmoids and Tanhs
// (vector loops, expf) for float32, the standard library's for float64
// (which gradient checks use).
func sigmoids[T Float](dst, x []T) {
	if d, ok := any(dst).([]float32); ok {
		Sigmoids(d, any(x).([]float32))
		return
	}
	for i, v := range x {
		dst[i] = sig(v)
	}
}

func tanhs[T Float](dst, x []T) {
	if d, ok := any(dst).([]float32); ok {
		Tanhs(d, any(x).([]float32))
		return
	}
	for i, v := range x {
		dst[i] = tnh(v)
	}
}
