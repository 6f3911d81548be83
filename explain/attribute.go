package explain

import (
	"fmt"
	"math"
	"slices"
	"strconv"

	"github.com/pkg/errors"
)

// Attribution is what a method says of one example: one attribution per
// value of the input, and the output it explains. It marshals to JSON
// under the names below, the values flat and row-major in shape.
type Attribution struct {
	Method Method `json:"method"`
	// Class is the class (or next token) explained.
	Class int `json:"class"`
	// Shape is the input's shape per example; Values holds one
	// attribution per input value, row-major in Shape.
	Shape  []int     `json:"shape"`
	Values []float64 `json:"values"`
	// Quantity is what output is explained: the class's logit or its
	// probability.
	Quantity Quantity `json:"quantity"`
	// Output is the quantity explained, at the input: the class's logit
	// (for class 0 of a model with one output, the logit negated) or its
	// probability.
	Output float64 `json:"output"`
	// Baseline is integrated gradients' and occlusion's baseline.
	Baseline Baseline `json:"baseline,omitempty"`
	// Integrated gradients: the steps and rule, the output at the
	// baseline, and Delta = Σ Values − (Output − BaselineOutput), which
	// completeness says is 0.
	Steps          int      `json:"steps,omitempty"`
	Rule           Rule     `json:"rule,omitempty"`
	BaselineOutput *float64 `json:"baseline_output,omitempty"`
	Delta          *float64 `json:"delta,omitempty"`
	// Occlusion's window side and stride.
	Window int `json:"window,omitempty"`
	Stride int `json:"stride,omitempty"`
	// Signed says that saliency's values are the gradient itself, not its
	// magnitude.
	Signed bool `json:"signed,omitempty"`
}

// Sum returns the sum of the attributions.
func (a *Attribution) Sum() float64 {
	s := 0.0
	for _, v := range a.Values {
		s += v
	}
	return s
}

// Attribute explains a classifier's or a regression's output for example
// x (the model's input shape, row-major: an image [channels, height,
// width] or [height, width], a table's row [features]) with opt's method.
// A regression's output is its prediction (Quantity Prediction).
func (e *Explainer) Attribute(x []float32, opt Options) (*Attribution, error) {
	as, err := e.AttributeAll([][]float32{x}, opt)
	if err != nil {
		return nil, err
	}
	return as[0], nil
}

// AttributeAll explains each example of xs as Attribute does, running
// their passes in common batches.
func (e *Explainer) AttributeAll(xs [][]float32, opt Options) ([]*Attribution, error) {
	asked := opt.Quantity
	opt, err := opt.withDefaults()
	if err != nil {
		return nil, err
	}
	if opt, err = e.quantityOf(opt, asked); err != nil {
		return nil, err
	}
	if err := e.checkValues(); err != nil {
		return nil, err
	}
	shape := e.info.InputShape
	values := make([][]float64, len(xs))
	for i, x := range xs {
		if err := e.checkExample(i, x); err != nil {
			return nil, err
		}
		values[i] = make([]float64, len(x))
		for j, v := range x {
			values[i][j] = float64(v)
		}
	}
	picks, outs, err := e.classes(shape, values, opt)
	if err != nil {
		return nil, err
	}
	as := make([]*Attribution, len(xs))
	for i := range as {
		as[i] = &Attribution{Method: opt.Method, Class: picks[i].class, Shape: slices.Clone(shape), Quantity: opt.Quantity, Output: outs[i]}
	}
	switch opt.Method {
	case Saliency:
		err = e.saliency(shape, values, picks, as, opt)
	case Occlusion:
		err = e.occlusion(shape, values, picks, as, opt)
	default:
		err = e.integratedInputs(shape, values, picks, as, opt)
	}
	if err != nil {
		return nil, err
	}
	return as, nil
}

// quantityOf returns opt with the quantity the model's task explains: a
// classifier's (asked, or the logit), a regression's prediction; or an
// error for a model of another task, or a quantity or class the task has
// not.
func (e *Explainer) quantityOf(opt Options, asked Quantity) (Options, error) {
	name := e.info.Model.Name
	switch e.info.Task {
	case "classify":
		if asked == Prediction {
			return opt, errors.Errorf("explain: model %s is a classifier: explain a class's logit or probability, not a prediction", name)
		}
		return opt, nil
	case "regress":
		if asked != "" && asked != Prediction {
			return opt, errors.Errorf("explain: model %s is a regression: its output is a prediction, not a %s", name, truncate(string(asked)))
		}
		if _, ok := opt.Target.Index(); ok {
			return opt, errors.Errorf("explain: model %s is a regression: it has no class to name", name)
		}
		opt.Quantity = Prediction
		return opt, nil
	}
	return opt, kindError(fmt.Sprintf("explain: model %s was trained for %s, not classification or regression", name, e.info.Task))
}

// checkExample reports whether x, example i (from 0) of a call, is an
// input of the model: its shape's number of values, all finite.
func (e *Explainer) checkExample(i int, x []float32) error {
	shape := e.info.InputShape
	if len(x) != size(shape) {
		return errors.Errorf("explain: example %d holds %d values, not the %d of the model's input %v", i+1, len(x), size(shape), shape)
	}
	return finite("explain: example "+strconv.Itoa(i+1), x)
}

// classPick is the class explained for an example and the output that
// stands for it.
type classPick struct {
	pick
	class int
}

// classes runs a classifier on values and returns for each the class
// explained (opt.Target's, or the predicted one) and that class's output,
// opt.Quantity of it.
func (e *Explainer) classes(shape []int, values [][]float64, opt Options) ([]classPick, []float64, error) {
	outputs := e.info.Outputs
	classes := max(outputs, 2)
	if i, ok := opt.Target.Index(); ok && (i < 0 || i >= classes) {
		return nil, nil, errors.Errorf("explain: class %d: model %s has classes 0 to %d", i, e.info.Model.Name, classes-1)
	}
	picks := make([]classPick, len(values))
	outs := make([]float64, len(values))
	if opt.Quantity == Prediction {
		// The prediction in the target's units, less its mean.
		scale := e.info.TargetStd
		if scale == 0 {
			scale = 1
		}
		for r := range picks {
			picks[r] = classPick{pick{index: 0, sign: scale}, 0}
		}
	}
	err := e.do(request{
		shape:    shape,
		quantity: opt.Quantity,
		rows:     len(values),
		input:    func(r int, x []float64) { copy(x, values[r]) },
		visit: func(r int, out, _ []float64) error {
			if opt.Quantity == Prediction {
				outs[r] = picks[r].of(out)
				return nil
			}
			c, ok := opt.Target.Index()
			if !ok {
				c = e.predict(out, opt.Quantity)
			}
			p := classPick{pick{index: c, sign: 1}, c}
			if outputs == 1 {
				p.index = 0
				if c == 0 {
					p.sign = -1
					if opt.Quantity == Probability {
						p.offset = 1
					}
				}
			}
			picks[r], outs[r] = p, p.of(out)
			return nil
		},
	})
	return picks, outs, err
}

// predict returns the class a row of outputs (q of them) stands for: the
// largest, or for one output whether it is on the positive side.
func (e *Explainer) predict(out []float64, q Quantity) int {
	if q == Probability && len(out) == 1 {
		if out[0] > 0.5 {
			return 1
		}
		return 0
	}
	return e.loss.Predict(out)
}

func picksOf(cs []classPick) []pick {
	ps := make([]pick, len(cs))
	for i, c := range cs {
		ps[i] = c.pick
	}
	return ps
}

// saliency sets as[i].Values to |∂output/∂x| at values[i], or to the
// gradient itself where opt.Signed.
func (e *Explainer) saliency(shape []int, values [][]float64, picks []classPick, as []*Attribution, opt Options) error {
	return e.do(request{
		shape:    shape,
		rows:     len(values),
		input:    func(r int, x []float64) { copy(x, values[r]) },
		quantity: opt.Quantity,
		seed:     func(r int) (int, float64) { return picks[r].index, picks[r].sign },
		visit: func(r int, _, g []float64) error {
			v := make([]float64, len(g))
			for j, d := range g {
				v[j] = d
				if !opt.Signed {
					v[j] = math.Abs(d)
				}
			}
			as[r].Values, as[r].Signed = v, opt.Signed
			return nil
		},
	})
}

// integratedInputs sets as[i] to integrated gradients from the baseline of
// opt to values[i].
func (e *Explainer) integratedInputs(shape []int, values [][]float64, picks []classPick, as []*Attribution, opt Options) error {
	bases := make([][]float64, len(values))
	for i, v := range values {
		var err error
		if bases[i], err = baseline(opt, shape, v); err != nil {
			return err
		}
	}
	res, err := e.integrate(space{shape: shape, quantity: opt.Quantity}, values, bases, picksOf(picks), opt.Steps, opt.Rule)
	if err != nil {
		return err
	}
	for i, r := range res {
		a := as[i]
		a.Values, a.Baseline, a.Steps, a.Rule = r.attr, opt.Baseline, opt.Steps, opt.Rule
		base, delta := r.base, r.delta()
		a.BaselineOutput, a.Delta = &base, &delta
	}
	return nil
}

// occlusion sets as[i].Values to the mean fall of the output over the
// windows covering each value, each window replaced by the baseline.
func (e *Explainer) occlusion(shape []int, values [][]float64, picks []classPick, as []*Attribution, opt Options) error {
	p, err := newPlanes(shape)
	if err != nil {
		return err
	}
	win, stride, err := occlusionWindow(p, opt)
	if err != nil {
		return err
	}
	ws := p.windows(win, stride)
	count := make([]float64, p.h*p.w)
	for _, w := range ws {
		w.each(func(k int) { count[k]++ })
	}
	bases := make([][]float64, len(values))
	falls := make([][]float64, len(values)) // per pixel of a plane
	for i, v := range values {
		if bases[i], err = baseline(opt, shape, v); err != nil {
			return err
		}
		falls[i] = make([]float64, p.h*p.w)
	}
	m := len(ws) + 1 // the input itself, then each window
	top := make([]float64, len(values))
	err = e.do(request{
		quantity: opt.Quantity,
		shape:    shape,
		rows:     len(values) * m,
		input: func(r int, x []float64) {
			i, k := r/m, r%m
			copy(x, values[i])
			if k > 0 {
				ws[k-1].each(func(j int) {
					for c := 0; c < p.lead; c++ {
						x[c*p.h*p.w+j] = bases[i][c*p.h*p.w+j]
					}
				})
			}
		},
		visit: func(r int, out, _ []float64) error {
			i, k := r/m, r%m
			y := picks[i].of(out)
			if k == 0 {
				top[i] = y
				return nil
			}
			ws[k-1].each(func(j int) { falls[i][j] += top[i] - y })
			return nil
		},
	})
	if err != nil {
		return err
	}
	for i, a := range as {
		a.Values = make([]float64, size(shape))
		for c := 0; c < p.lead; c++ {
			for j, f := range falls[i] {
				a.Values[c*p.h*p.w+j] = f / count[j]
			}
		}
		a.Baseline, a.Window, a.Stride = opt.Baseline, win, stride
	}
	return nil
}

// occlusionWindow returns opt's window and stride with their defaults for
// planes p, or an error if the window does not fit.
func occlusionWindow(p planes, opt Options) (win, stride int, err error) {
	win, stride = opt.Window, opt.Stride
	if win == 0 {
		win = 1
		if p.image {
			win = max(1, min(p.h, p.w)/7)
		}
	}
	if stride == 0 {
		stride = max(1, win/2)
	}
	if win > p.w || (p.image && win > p.h) {
		return 0, 0, errors.Errorf("explain: occlusion window %d is larger than the input's %d×%d", win, p.h, p.w)
	}
	return win, stride, nil
}
