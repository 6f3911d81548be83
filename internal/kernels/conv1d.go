package kernels

// Conv1DGeom is the geometry of a 1-D convolution over sequences of
// steps × channels (channels last): N sequences of L steps of C channels,
// F filters of K taps D steps apart (dilation; zero means 1), stride S,
// PadL and PadR zero steps before and after; OL = (L + PadL + PadR −
// (K−1)·D − 1)/S + 1 output steps.
type Conv1DGeom struct {
	N, L, C, F, K, S, PadL, PadR, OL int
	D                                int
}

// padded returns the steps of a padded sequence.
func (g Conv1DGeom) padded() int { return g.L + g.PadL + g.PadR }

// dilation returns the steps between a filter's taps.
func (g Conv1DGeom) dilation() int { return max(g.D, 1) }

// Conv1DScratch is a 1-D convolution's working memory, kept from pass to
// pass: its filters packed as a [K·C, F] matrix, the padded input, the
// windows of a dilated convolution, and for the backward pass the packed
// filter gradient, the windows' gradient and the padded input gradient.
type Conv1DScratch[T Float] struct {
	wp, xp, win, dwp, cols, dxp []T
}

// Conv1DForward computes y [N, OL, F] = the cross-correlation of x
// [N, L, C] with the filters w [F, C, K] (PyTorch's Conv1d layout), plus
// bias [F] if not nil. Undilated, each output step's window of K steps is
// K·C consecutive values of the (padded) sequence, so every sequence is
// one matrix product of its windows (rows S·C apart) with the packed
// filters; dilated, the windows are gathered first (Conv1DScratch.win),
// then multiplied the same way.
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
	src, ld := conv1DWindows(g, conv1DSource(g, x, s), s)
	ParallelFor(g.N, 1, func(lo, hi int) {
		for n := lo; n < hi; n++ {
			Gemm(false, false, g.OL, g.F, kc, src[n*conv1DRows(g, ld):], ld, s.wp, g.F, false, y[n*g.OL*g.F:], g.F)
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

// conv1DWindows returns the windows of the padded sequences src as rows
// of K·C values ld apart: src itself with ld = S·C where the taps are
// consecutive steps, else the windows gathered into s.win, ld = K·C.
func conv1DWindows[T Float](g Conv1DGeom, src []T, s *Conv1DScratch[T]) ([]T, int) {
	d := g.dilation()
	if d == 1 {
		return src, g.S * g.C
	}
	kc, lp := g.K*g.C, g.padded()
	s.win = grow(s.win, g.N*g.OL*kc)
	for n := 0; n < g.N; n++ {
		seq := src[n*lp*g.C : (n+1)*lp*g.C]
		for t := 0; t < g.OL; t++ {
			row := s.win[(n*g.OL+t)*kc : (n*g.OL+t+1)*kc]
			for j := 0; j < g.K; j++ {
				at := (t*g.S + j*d) * g.C
				copy(row[j*g.C:(j+1)*g.C], seq[at:at+g.C])
			}
		}
	}
	return s.win, kc
}

// conv1DRows returns how far apart, in values, the windows of successive
// sequences start when rows are ld apart: a padded sequence's length
// undilated, OL rows dilated.
func conv1DRows(g Conv1DGeom, ld int) int {
	if g.dilation() == 1 {
		return g.padded() * g.C
	}
	return g.OL * ld
}

// Conv1DFilterGrad computes dw [F, C, K] from the forward pass's input x
// and the output gradient dy [N, OL, F]: the windows' transpose times dy,
// summed over the sequences in order. It reads the padded input or the
// gathered windows that Conv1DForward left in s.
func Conv1DFilterGrad[T Float](g Conv1DGeom, x, dy, dw []T, s *Conv1DScratch[T]) {
	kc := g.K * g.C
	src, ld := x, g.S*g.C
	switch {
	case g.dilation() != 1:
		src, ld = s.win, kc
	case g.PadL != 0 || g.PadR != 0:
		src = s.xp
	}
	s.dwp = grow(s.dwp, kc*g.F)
	for n := 0; n < g.N; n++ {
		ParallelGemm(true, false, kc, g.F, g.OL, src[n*conv1DRows(g, ld):], ld, dy[n*g.OL*g.F:], g.F, n > 0, s.dwp, g.F)
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
// Conv1DForward: each window's gradient dy·wpᵀ, each tap's C values added
// back into the step it read.
func Conv1DInputGrad[T Float](g Conv1DGeom, dy, dx []T, s *Conv1DScratch[T]) {
	kc, lp, d := g.K*g.C, g.padded(), g.dilation()
	s.cols = grow(s.cols, g.N*g.OL*kc)
	s.dxp = grow(s.dxp, g.N*lp*g.C)
	ParallelFor(g.N, 1, func(lo, hi int) {
		for n := lo; n < hi; n++ {
			cols := s.cols[n*g.OL*kc : (n+1)*g.OL*kc]
			Gemm(false, true, g.OL, kc, g.F, dy[n*g.OL*g.F:], g.F, s.wp, g.F, false, cols, kc)
			seq := s.dxp[n*lp*g.C : (n+1)*lp*g.C]
			clear(seq)
			for t := 0; t < g.OL; t++ {
				for j := 0; j < g.K; j++ {
					at := (t*g.S + j*d) * g.C
					step := seq[at : at+g.C]
					for c, v := range cols[t*kc+j*g.C : t*kc+(j+1)*g.C] {
						step[c] += v
					}
				}
			}
			copy(dx[n*g.L*g.C:(n+1)*g.L*g.C], seq[g.PadL*g.C:])
		}
	})
}
