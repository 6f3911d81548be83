package explain

import (
	"github.com/dlrun/dlrun/graph"
	"gonum.org/v1/gonum/integrate/quad"
)

// quadrature returns the points α_k (fractions of the way from the
// baseline to the input) at which integrated gradients takes the gradient,
// and their weights; the first point is the baseline (α = 0) and the last
// the input (α = 1), run for their outputs whatever their weights. For
// the trapezoid rule and the right sum k = 0 … steps, α_k = k/steps: the
// trapezoid rule weighs the ends 1/(2·steps) and the rest 1/steps; the
// right sum weighs α_0 0 and the rest 1/steps. Gauss–Legendre's points
// are its steps nodes on (0, 1) with their weights (gonum's quad.Legendre),
// between the two ends weighed 0.
func quadrature(steps int, rule Rule) (alpha, weight []float64) {
	if rule == GaussLegendre {
		alpha, weight = make([]float64, steps+2), make([]float64, steps+2)
		alpha[steps+1] = 1
		quad.Legendre{}.FixedLocations(alpha[1:steps+1], weight[1:steps+1], 0, 1)
		return alpha, weight
	}
	alpha, weight = make([]float64, steps+1), make([]float64, steps+1)
	for k := range alpha {
		alpha[k] = float64(k) / float64(steps)
		weight[k] = 1 / float64(steps)
	}
	if rule == RightSum {
		weight[0] = 0
	} else {
		weight[0] /= 2
		weight[steps] /= 2
	}
	return alpha, weight
}

// pick is the output a row's gradient is taken of, and its sign and
// offset: class 0 of a model with one output is explained by class 1's
// logit negated (sign -1), or by 1 less class 1's probability (offset 1).
type pick struct {
	index        int
	sign, offset float64
}

// of returns the quantity p picks from a row of outputs.
func (p pick) of(out []float64) float64 { return p.sign*out[p.index] + p.offset }

// integral is integrated gradients' result for one example.
type integral struct {
	grad      []float64 // the mean gradient along the path
	attr      []float64 // (value − baseline) ⊙ grad
	out, base float64   // the output at the input and at the baseline
}

// delta returns Σ attr − (out − base), the quadrature's error.
func (r integral) delta() float64 {
	s := 0.0
	for _, a := range r.attr {
		s += a
	}
	return s - (r.out - r.base)
}

// space says what integrated gradients moves: the model's input of shape
// (taps nil), or the rows of the tapped embeddings that taps selects, for
// an input of ids (ids writes example i's).
type space struct {
	shape    []int
	quantity Quantity
	taps     func(t graph.Tap, x *graph.Node) bool
	ids      func(i int, x []float64)
}

// integrate runs integrated gradients for each example i, from bases[i]
// to values[i] in space sp, of the output picks[i], all the examples'
// points in batches.
func (e *Explainer) integrate(sp space, values, bases [][]float64, picks []pick, steps int, rule Rule) ([]integral, error) {
	alpha, weight := quadrature(steps, rule)
	m := len(alpha)
	res := make([]integral, len(values))
	for i := range res {
		res[i].grad = make([]float64, len(values[i]))
	}
	interpolate := func(r int, dst []float64) {
		v, b, a := values[r/m], bases[r/m], alpha[r%m]
		for j := range dst {
			dst[j] = b[j] + a*(v[j]-b[j])
		}
	}
	req := request{
		shape:    sp.shape,
		quantity: sp.quantity,
		rows:     len(values) * m,
		taps:     sp.taps,
		seed:     func(r int) (int, float64) { return picks[r/m].index, picks[r/m].sign },
		visit: func(r int, out, g []float64) error {
			i, k := r/m, r%m
			y := picks[i].of(out)
			if k == 0 {
				res[i].base = y
			}
			if k == m-1 {
				res[i].out = y
			}
			acc := res[i].grad
			for j := range acc {
				acc[j] += weight[k] * g[j]
			}
			return nil
		},
	}
	if sp.taps == nil {
		req.input = interpolate
	} else {
		req.input = func(r int, x []float64) { sp.ids(r/m, x) }
		req.point = interpolate
	}
	if err := e.do(req); err != nil {
		return nil, err
	}
	for i := range res {
		res[i].attr = make([]float64, len(values[i]))
		for j, g := range res[i].grad {
			res[i].attr[j] = (values[i][j] - bases[i][j]) * g
		}
	}
	return res, nil
}
