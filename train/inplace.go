package train

import (
	"math"

	"github.com/dlrun/dlrun/graph"
	"github.com/dlrun/dlrun/internal/kernels"
	"github.com/pkg/errors"
)

// This file holds the optimizers' in-place steps: updates applied where
// the graph keeps a parameter (float32 or float64) from the gradient the
// program computed, with no float64 copies of either, and, for a gradient
// that is zero outside some rows (an embedding table's), to those rows
// alone where the optimizer's semantics allow. Each gives Step's result
// bit for bit: values are widened to float64, updated by the same
// arithmetic in the same order and narrowed back.

// stepParam is a parameter as an in-place step sees it.
type stepParam struct {
	name string
	w, g graph.Data // the live values and gradient
	// rows, when not nil, lists the only rows (of width values each) whose
	// gradient may be nonzero (graph.Program.GradientRows); an optimizer
	// whose sparse method says so updates those rows alone.
	rows  []int
	width int
}

// inPlaceStepper is implemented by the optimizers with an in-place step.
type inPlaceStepper interface {
	Optimizer
	// fusable reports whether stepData may serve instead of Step: there
	// is no clipping or weight decay to apply to the gradients first.
	fusable() bool
	// sparse reports whether an update leaves an element whose gradient
	// is zero, and the optimizer's state for it, exactly as they are, so
	// that rows with a zero gradient need not be visited: true for plain
	// SGD and AdaGrad, false for Adam, whose moments decay at every step
	// (PyTorch's dense optimizers behave the same on sparse gradients in
	// this respect; its SparseAdam is a different algorithm).
	sparse() bool
	// stepData applies one update to ps.
	stepData(ps []stepParam) error
}

var (
	_ inPlaceStepper = (*SGD)(nil)
	_ inPlaceStepper = (*AdaGrad)(nil)
	_ inPlaceStepper = (*Adam)(nil)
	_ inPlaceStepper = (*AdamW)(nil)
)

// checkData is checkStep for an in-place step.
func checkData(opt string, lr float64, ps []stepParam) error {
	if err := checkUpdate(opt, lr, len(ps)); err != nil {
		return err
	}
	for _, p := range ps {
		if p.w.Len() != p.g.Len() || (p.w.Float32s() == nil) != (p.g.Float32s() == nil) {
			return errors.Errorf("train: %s: parameter %q and its gradient differ in size or type", opt, p.name)
		}
		for _, r := range p.rows {
			if p.width <= 0 || r < 0 || (r+1)*p.width > p.w.Len() {
				return errors.Errorf("train: %s: parameter %q has no row %d of %d values", opt, p.name, r, p.width)
			}
		}
	}
	return nil
}

// each calls fn on the element ranges of p to update: every element, in
// parallel chunks, or, when sparse and p lists its rows, each of those.
func (p stepParam) each(sparse bool, fn func(lo, hi int)) {
	if sparse && p.rows != nil {
		for _, r := range p.rows {
			fn(r*p.width, (r+1)*p.width)
		}
		return
	}
	kernels.ParallelFor(p.w.Len(), 1<<14, fn)
}

func (o *SGD) fusable() bool     { return o.Regularization == (Regularization{}) }
func (o *AdaGrad) fusable() bool { return o.Regularization == (Regularization{}) }

// fusable reports no clipping by value or L2 decay: clipping by global
// norm scales the gradient inside the update.
func (o *Adam) fusable() bool { return o.ClipValue == 0 && o.WeightDecay == 0 }

// fusable reports no clipping by value: clipping by global norm and the
// decoupled decay happen inside the update.
func (o *AdamW) fusable() bool { return o.ClipValue == 0 }

func (o *SGD) sparse() bool     { return true }
func (o *AdaGrad) sparse() bool { return true }
func (o *Adam) sparse() bool    { return false }
func (o *AdamW) sparse() bool   { return false }

// clipScaleData returns the factor clipping by global norm scales the
// gradients of ps by (1 without clipping): their squares summed in
// float64 in the order of Regularization.clip, so the same factor.
func (r *Regularization) clipScaleData(ps []stepParam) float64 {
	if r.ClipNorm <= 0 {
		return 1
	}
	sq := 0.0
	for _, p := range ps {
		if g := p.g.Float64s(); g != nil {
			for _, v := range g {
				sq += v * v
			}
			continue
		}
		for _, v := range p.g.Float32s() {
			f := float64(v)
			sq += f * f
		}
	}
	return r.clipScale(sq)
}

// stepData is Step in place: w -= lr·g.
func (o *SGD) stepData(ps []stepParam) error {
	lr := o.LearningRate()
	if err := checkData(o.Name(), lr, ps); err != nil {
		return err
	}
	o.step++
	for _, p := range ps {
		if w := p.w.Float64s(); w != nil {
			g := p.g.Float64s()
			p.each(o.sparse(), func(lo, hi int) { sgdUpdate(w[lo:hi], g[lo:hi], lr) })
			continue
		}
		w, g := p.w.Float32s(), p.g.Float32s()
		p.each(o.sparse(), func(lo, hi int) { sgdUpdate(w[lo:hi], g[lo:hi], lr) })
	}
	return nil
}

func sgdUpdate[T kernels.Float](w, g []T, lr float64) {
	g = g[:len(w)]
	for j := range w {
		w[j] = T(float64(w[j]) - lr*float64(g[j]))
	}
}

// stepData is Step in place: sum += g², w -= lr·g / (sqrt(sum) + eps).
func (o *AdaGrad) stepData(ps []stepParam) error {
	lr := o.LearningRate()
	if err := checkData(o.Name(), lr, ps); err != nil {
		return err
	}
	o.step++
	eps := or(o.Epsilon, 1e-10)
	for _, p := range ps {
		s := o.getN("sum", p.name, p.w.Len())
		if w := p.w.Float64s(); w != nil {
			g := p.g.Float64s()
			p.each(o.sparse(), func(lo, hi int) { adagradUpdate(w[lo:hi], g[lo:hi], s[lo:hi], lr, eps) })
			continue
		}
		w, g := p.w.Float32s(), p.g.Float32s()
		p.each(o.sparse(), func(lo, hi int) { adagradUpdate(w[lo:hi], g[lo:hi], s[lo:hi], lr, eps) })
	}
	return nil
}

func adagradUpdate[T kernels.Float](w, g []T, s []float64, lr, eps float64) {
	g, s = g[:len(w)], s[:len(w)]
	for j := range w {
		gj := float64(g[j])
		s[j] += gj * gj
		w[j] = T(float64(w[j]) - lr*gj/(math.Sqrt(s[j])+eps))
	}
}

// stepData is Step in place, float32 values widened in registers
// (kernels.AdamUpdate32). Every element is updated: Adam is not sparse.
// With clipping by global norm the gradient is scaled inside the update
// (kernels.AdamWUpdate, with no decay).
func (o *Adam) stepData(ps []stepParam) error {
	lr := o.LearningRate()
	if err := checkData(o.Name(), lr, ps); err != nil {
		return err
	}
	o.step++
	b1, b2, eps := or(o.Beta1, 0.9), or(o.Beta2, 0.999), or(o.Epsilon, 1e-8)
	lrc := lr / (1 - math.Pow(b1, o.step))
	c2inv := 1 / math.Sqrt(1-math.Pow(b2, o.step))
	if o.ClipNorm > 0 {
		adamWData(&o.slots, ps, o.clipScaleData(ps), 1, b1, b2, lrc, c2inv, eps)
		return nil
	}
	for _, p := range ps {
		n := p.w.Len()
		m, s := o.getN("m", p.name, n), o.getN("v", p.name, n)
		if w := p.w.Float64s(); w != nil {
			g := p.g.Float64s()
			p.each(o.sparse(), func(lo, hi int) {
				kernels.AdamUpdate(w[lo:hi], g[lo:hi], m[lo:hi], s[lo:hi], b1, b2, lrc, c2inv, eps)
			})
			continue
		}
		w, g := p.w.Float32s(), p.g.Float32s()
		p.each(o.sparse(), func(lo, hi int) {
			kernels.AdamUpdate32(w[lo:hi], g[lo:hi], m[lo:hi], s[lo:hi], b1, b2, lrc, c2inv, eps)
		})
	}
	return nil
}

// stepData is Step in place: clipping's scale and the decay are applied
// inside kernels.AdamWUpdate, float32 values widened in registers.
func (o *AdamW) stepData(ps []stepParam) error {
	lr := o.LearningRate()
	if err := checkData(o.Name(), lr, ps); err != nil {
		return err
	}
	s := o.clipScaleData(ps)
	o.step++
	b1, b2, eps, decay, lrc, c2inv := o.params(lr)
	adamWData(&o.slots, ps, s, decay, b1, b2, lrc, c2inv, eps)
	return nil
}

// adamWData applies kernels.AdamWUpdate to every element of ps, with the
// moments kept in st.
func adamWData(st *slots, ps []stepParam, s, decay, b1, b2, lrc, c2inv, eps float64) {
	for _, p := range ps {
		n := p.w.Len()
		m, v := st.getN("m", p.name, n), st.getN("v", p.name, n)
		if w := p.w.Float64s(); w != nil {
			g := p.g.Float64s()
			p.each(false, func(lo, hi int) {
				kernels.AdamWUpdate(w[lo:hi], g[lo:hi], m[lo:hi], v[lo:hi], s, decay, b1, b2, lrc, c2inv, eps)
			})
			continue
		}
		w, g := p.w.Float32s(), p.g.Float32s()
		p.each(false, func(lo, hi int) {
			kernels.AdamWUpdate(w[lo:hi], g[lo:hi], m[lo:hi], v[lo:hi], s, decay, b1, b2, lrc, c2inv, eps)
		})
	}
}
