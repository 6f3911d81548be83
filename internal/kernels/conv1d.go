package kernels

// Conv1DGeom is the geometry of a 1-D convolution over sequences of
// steps × channels (channels last): N sequences of L steps of C channels,
// F filters of K steps, stride S, PadL and PadR zero steps before and
// after; OL = (L + PadL + PadR − K)/S + 1 output steps.
type Conv1DGeom struct {
	N, L, C, F, K, S, PadL, PadR, OL int
}

// padded returns the steps of a padded sequence.
func (g Conv1DGeom) padded() int { return g.L + g.PadL + g.PadR }

// Conv1DScratch is a 1-D convolution's working memory, kept from pass to
// pass: its filters packed as a [K·C, F] matrix, the padded input, and
// for the backward pass the packed filter gradient, the windows' gradient
// and the padded input gradient.
type Conv1DScratch[T Float] struct {
	wp, xp, dwp, cols, dxp []T
}

// Conv1DForward computes y [N, OL, F] = the cross-correlation of x
// [N, L, C] with the filters w [F, C, K] (PyTorch's Conv1d layout), plus
// bias [F] if not nil. Each output step's window of K steps is K·C
// consecutive values of the (padded) sequence, so every sequence is one
// matrix product of its windows (rows S·C apart) with the packed filters.
func Conv1DForward[T Float](g Conv1DGeom, x, w, bias, y []T, s *Conv1DScratch[T]) {
	kc := g.K * g.C
	s.wp = grow(s.wp, kc*g.F)
	for f := 0; f < g.F; f++ {
		for c := 0; c < g.C; c++ {
			for j := 0; j < g.K; j++ {
				s.wp[(j*g.C+c)*g.F+f] = w[(f*g.C+c)*g.K+j]
			}
		}
	}
	src := conv1DSource(g, x, s)
	lp := g.padded()
	ParallelFor(g.N, 1, func(lo, hi int) {
		for n := lo; n < hi; n++ {
			Gemm(false, false, g.OL, g.F, kc, src[n*lp*g.C:], g.S*g.C, s.wp, g.F, false, y[n*g.OL*g.F:], g.F)
		}
	})
	if bias != nil {
		AddBias(y, y, bias)
	}
}

// conv1DSource returns x, or x with its padding steps in s.xp.
func conv1DSource[T Float](g Conv1DGeom, x []T, s *Conv1DScratch[T]) []T {
	if g.PadL == 0 && g.PadR == 0 {
		return x
	}
	lp := g.padded()
	s.xp = grow(s.xp, g.N*lp*g.C)
	clear(s.xp)
	for n := 0; n < g.N; n++ {
		copy(s.xp[(n*lp+g.PadL)*g.C:], x[n*g.L*g.C:(n+1)*g.L*g.C])
	}
	return s.xp
}

// Conv1DFilterGrad computes dw [F, C, K] from the forward pass's input x
// and the output gradient dy [N, OL, F]: the windows' transpose times dy,
// summed over the sequences in order. It reads the padded input that
// Conv1DForward left in s.
func Conv1DFilterGrad[T Float](g Conv1DGeom, x, dy, dw []T, s *Conv1DScratch[T]) {
	kc, lp := g.K*g.C, g.padded()
	src := x
	if g.PadL != 0 || g.PadR != 0 {
		src = s.xp
	}
	s.dwp = grow(s.dwp, kc*g.F)
	for n := 0; n < g.N; n++ {
		ParallelGemm(true, false, kc, g.F, g.OL, src[n*lp*g.C:], g.S*g.C, dy[n*g.OL*g.F:], g.F, n > 0, s.dwp, g.F)
	}
	for f := 0; f < g.F; f++ {
		for c := 0; c < g.C; c++ {
			for j := 0; j < g.K; j++ {
				dw[(f*g.C+c)*g.K+j] = s.dwp[(j*g.C+c)*g.F+f]
			}
		}
	}
}

// Conv1DInputGrad computes dx [N, L, C] from dy and the filters packed by
// Conv1DForward: each window's gradient dy·wpᵀ, added back into the
// steps it covered.
func Conv1DInputGrad[T Float](g Conv1DGeom, dy, dx []T, s *Conv1DScratch[T]) {
	kc, lp := g.K*g.C, g.padded()
	s.cols = grow(s.cols, g.N*g.OL*kc)
	s.dxp = grow(s.dxp, g.N*lp*g.C)
	ParallelFor(g.N, 1, func(lo, hi int) {
		for n := lo; n < hi; n++ {
			cols := s.cols[n*g.OL*kc : (n+1)*g.OL*kc]
			Gemm(false, true, g.OL, kc, g.F, dy[n*g.OL*g.F:], g.F, s.wp, g.F, false, cols, kc)
			seq := s.dxp[n*lp*g.C : (n+1)*lp*g.C]
			clear(seq)
			for t := 0; t < g.OL; t++ {
				win := seq[t*g.S*g.C : t*g.S*g.C+kc]
				for j, v := range cols[t*kc : (t+1)*kc] {
					win[j] += v
				}
			}
			copy(dx[n*g.L*g.C:(n+1)*g.L*g.C], seq[g.PadL*g.C:])
		}
	})
}
