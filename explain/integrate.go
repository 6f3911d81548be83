package explain

import (
	"cmp"
	"math"
	"slices"

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

// path is integrated gradients' straight paths from bases[i] to
// values[i] in a space, and the output picks[i] of each.
type path struct {
	sp            space
	values, bases [][]float64
	picks         []pick
}

// at runs the model at the points of the paths that points lists (an
// example and its α each), in batches of at least batch rows (0: as many
// as there are points), and visits each point's output and gradient.
func (e *Explainer) at(p path, points []pathPoint, batch int, visit func(pt pathPoint, y float64, g []float64)) error {
	interpolate := func(r int, dst []float64) {
		pt := points[r]
		v, b := p.values[pt.example], p.bases[pt.example]
		for j := range dst {
			dst[j] = b[j] + pt.alpha*(v[j]-b[j])
		}
	}
	req := request{
		shape:    p.sp.shape,
		quantity: p.sp.quantity,
		rows:     len(points),
		batch:    batch,
		taps:     p.sp.taps,
		seed:     func(r int) (int, float64) { return p.picks[points[r].example].index, p.picks[points[r].example].sign },
		visit: func(r int, out, g []float64) error {
			visit(points[r], p.picks[points[r].example].of(out), g)
			return nil
		},
	}
	if p.sp.taps == nil {
		req.input = interpolate
	} else {
		req.input = func(r int, x []float64) { p.sp.ids(points[r].example, x) }
		req.point = interpolate
	}
	return e.do(req)
}

// pathPoint is a point of example's path, α of the way from its
// baseline; k numbers it among a fixed rule's points.
type pathPoint struct {
	example, k int
	alpha      float64
}

// integrate runs integrated gradients for each example i, from bases[i]
// to values[i] in space sp, of the output picks[i], all the examples'
// points in batches.
func (e *Explainer) integrate(sp space, values, bases [][]float64, picks []pick, steps int, rule Rule) ([]integral, error) {
	p := path{sp: sp, values: values, bases: bases, picks: picks}
	res := make([]integral, len(values))
	for i := range res {
		res[i].grad = make([]float64, len(values[i]))
	}
	if rule != Adaptive {
		if err := e.fixed(p, steps, rule, res); err != nil {
			return nil, err
		}
	} else {
		// A few examples at a time: the rule keeps every point's gradient.
		group := max(1, adaptiveBudget/((steps+2)*max(1, len(values[0]))))
		for lo := 0; lo < len(values); lo += group {
			if err := e.adaptive(p.slice(lo, min(lo+group, len(values))), steps, res[lo:]); err != nil {
				return nil, err
			}
		}
	}
	for i := range res {
		res[i].attr = make([]float64, len(values[i]))
		for j, g := range res[i].grad {
			res[i].attr[j] = (values[i][j] - bases[i][j]) * g
		}
	}
	return res, nil
}

// fixed sets res's outputs and mean gradients by a rule of fixed points
// (quadrature), every example's points run at once.
func (e *Explainer) fixed(p path, steps int, rule Rule, res []integral) error {
	alpha, weight := quadrature(steps, rule)
	m := len(alpha)
	points := make([]pathPoint, 0, len(p.values)*m)
	for i := range p.values {
		for k, a := range alpha {
			points = append(points, pathPoint{i, k, a})
		}
	}
	return e.at(p, points, 0, func(pt pathPoint, y float64, g []float64) {
		k, r := pt.k, &res[pt.example]
		if k == 0 {
			r.base = y
		}
		if k == m-1 {
			r.out = y
		}
		for j := range r.grad {
			r.grad[j] += weight[k] * g[j]
		}
	})
}

// node is a point of an adaptive rule's grid: its place α, the output y
// there, the gradient g and the derivative of the output along the path
// s = g · (value − baseline).
type node struct {
	alpha, y, s float64
	g           []float64
}

// adaptive sets res's outputs and mean gradients by the adaptive
// trapezoid rule (Adaptive): steps+2 points in all, half of them spaced
// equally, the rest added in rounds at the middles of the
// intervals where the trapezoid's integral of the derivative along the
// path is furthest from the output's change across the interval.
func (e *Explainer) adaptive(p path, steps int, res []integral) error {
	total := steps + 2
	first := max(1, total/adaptiveFirst) // intervals of the equal grid
	grids := make([][]node, len(p.values))
	var points []pathPoint
	for i := range p.values {
		for k := 0; k <= first; k++ {
			points = append(points, pathPoint{example: i, alpha: float64(k) / float64(first)})
		}
	}
	left := total - (first + 1)
	per := (left + adaptiveRounds - 1) / adaptiveRounds // points a round adds per example
	add := func(points []pathPoint, batch int) error {
		return e.at(p, points, batch, func(pt pathPoint, y float64, g []float64) {
			v, b := p.values[pt.example], p.bases[pt.example]
			s := 0.0
			for j, d := range g {
				s += (v[j] - b[j]) * d
			}
			grids[pt.example] = append(grids[pt.example], node{alpha: pt.alpha, y: y, s: s, g: slices.Clone(g)})
		})
	}
	if err := add(points, 0); err != nil {
		return err
	}
	for left > 0 {
		// Every round adds per points (the last what is left), in one
		// graph's batches.
		k := min(per, left)
		points = points[:0]
		for i, grid := range grids {
			slices.SortFunc(grid, func(a, b node) int { return cmp.Compare(a.alpha, b.alpha) })
			grids[i] = grid
			for _, iv := range worstIntervals(grid, k) {
				points = append(points, pathPoint{example: i, alpha: (grid[iv].alpha + grid[iv+1].alpha) / 2})
			}
		}
		if err := add(points, len(grids)*per); err != nil {
			return err
		}
		left -= k
	}
	for i, grid := range grids {
		slices.SortFunc(grid, func(a, b node) int { return cmp.Compare(a.alpha, b.alpha) })
		r := &res[i]
		r.base, r.out = grid[0].y, grid[len(grid)-1].y
		for k, n := range grid {
			w := 0.0
			if k > 0 {
				w += (n.alpha - grid[k-1].alpha) / 2
			}
			if k < len(grid)-1 {
				w += (grid[k+1].alpha - n.alpha) / 2
			}
			for j, d := range n.g {
				r.grad[j] += w * d
			}
		}
	}
	return nil
}

// The adaptive rule spaces half (1/adaptiveFirst) of its points equally
// and adds the rest in rounds of a twelfth (1/adaptiveRounds) of them, at
// least one: more rounds place them better, each a pass of its own. At
// 50 steps, 27 equally spaced and 9 rounds of 3 (the last of 1).
// adaptiveBudget is the most gradient values it keeps at once (128 MiB).
const (
	adaptiveFirst  = 2
	adaptiveRounds = 12
	adaptiveBudget = 1 << 24
)

// slice returns the paths of examples lo to hi.
func (p path) slice(lo, hi int) path {
	q := path{sp: p.sp, values: p.values[lo:hi], bases: p.bases[lo:hi], picks: p.picks[lo:hi]}
	if ids := p.sp.ids; ids != nil {
		q.sp.ids = func(i int, x []float64) { ids(lo+i, x) }
	}
	return q
}

// worstIntervals returns the k intervals of grid (sorted by α; interval
// i is from grid[i] to grid[i+1]) whose trapezoid misses the output's
// change the most, at most one per interval.
func worstIntervals(grid []node, k int) []int {
	miss := make([]float64, len(grid)-1)
	idx := make([]int, len(grid)-1)
	for i := range miss {
		a, b := grid[i], grid[i+1]
		miss[i] = math.Abs((a.s+b.s)/2*(b.alpha-a.alpha) - (b.y - a.y))
		idx[i] = i
	}
	slices.SortStableFunc(idx, func(x, y int) int {
		if c := cmp.Compare(miss[y], miss[x]); c != 0 {
			return c
		}
		return cmp.Compare(grid[y+1].alpha-grid[y].alpha, grid[x+1].alpha-grid[x].alpha)
	})
	return idx[:min(k, len(idx))]
}
