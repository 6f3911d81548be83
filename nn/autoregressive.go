package nn

import (
	"math"

	"github.com/dlrun/dlrun/graph"
	"github.com/pkg/errors"
)

// Autoregressive is a joint output over the K values of a step (the 88
// keys of a piano roll's next step): an autoregressive net whose biases
// are its input. Given the logits z of the layer before it (one per
// value, from a sequence model's state) it factorises p(v) =
// Π_k p(v_k | v_1..v_{k-1}) with
//
//	logit_k = z_k + Σ_{j<k} A_kj v_j + Σ_h U_kh relu(c_h + Σ_j W_hj v_j)
//
// where A (K×K) is used strictly below its diagonal (a fully visible
// sigmoid belief net, Frey 1998) and the Hidden units h, if any, form a
// masked autoencoder (MADE, Germain et al. 2015): unit h has the degree
// m_h = 1 + h mod (K−1), reads the values j < m_h and feeds the values
// k ≥ m_h, so that logit_k depends on v_1..v_{k-1} alone. A and U start
// at 0, so that training starts from independent sigmoids; W and c start
// uniform in ±1/√K (PyTorch's nn.Linear). Its outputs are the conditional
// logits: the sum of their binary cross-entropies with v is exactly
// −log p(v), the negative log-likelihood of the joint distribution that
// JointWeights.Draw samples.
//
// The values v it conditions on are the ones its outputs predict, given
// by the task that trains it (Condition; teacher forcing): train's
// next-step task gives it the next step's keys (AutoregressiveOutput finds
// the layer). Without a condition (a model built for composing) the
// outputs are z, the logits before the values add to them, from which
// Draw samples value by value. The input is [..., K] (any leading axes,
// as Dense's output over a sequence); the output has its shape. In a
// model file, autoregressive, with its setting hidden.
type Autoregressive struct {
	base
	// Hidden is the number of hidden units (0: none, the values' logits
	// linear in the values before them).
	Hidden int

	cond *graph.Node
}

var (
	_ Layer       = (*Autoregressive)(nil)
	_ BatchMemory = (*Autoregressive)(nil)
)

// AutoregressiveOutput returns model's Autoregressive layer, nil if it
// has none; it is an error for one to be anywhere but the model's last
// layer, whose outputs are the model's, or for there to be several.
func AutoregressiveOutput(model Layer) (*Autoregressive, error) {
	var found []*Autoregressive
	for _, l := range AllLayers(model) {
		if a, ok := l.(*Autoregressive); ok && a != nil {
			found = append(found, a)
		}
	}
	if len(found) == 0 {
		return nil, nil
	}
	s, ok := model.(*Sequential)
	if len(found) > 1 || !ok || len(s.Layers) == 0 || s.Layers[len(s.Layers)-1] != Layer(found[0]) {
		return nil, errors.Errorf("%s (%s): an autoregressive output must be the model's last layer, and its only one", found[0].Name(), found[0].Kind())
	}
	return found[0], nil
}

// ErrAutoregressiveSize is the error of an Autoregressive layer over more
// values than MaxAutoregressive.
var ErrAutoregressiveSize = errors.New("too many values for an autoregressive output")

// MaxAutoregressive is the most values a step of an Autoregressive layer
// may have (its weight is their square).
const MaxAutoregressive = 4096

// NewAutoregressive returns an Autoregressive output layer.
func NewAutoregressive() *Autoregressive { return &Autoregressive{} }

// Kind implements Layer.
func (a *Autoregressive) Kind() string { return "Autoregressive" }

// OutputShape implements Layer: the input's shape.
func (a *Autoregressive) OutputShape(in []int) ([]int, error) {
	if a == nil {
		return nil, nilLayer(a)
	}
	if len(in) < 1 || in[len(in)-1] < 1 {
		return nil, shapeErr(a, in, "want at least one axis, the values of a step last")
	}
	k := in[len(in)-1]
	if k > MaxAutoregressive {
		return nil, shapeErr(a, in, "%v: %d values, at most %d", ErrAutoregressiveSize, k, MaxAutoregressive)
	}
	if a.Hidden < 0 || a.Hidden > MaxAutoregressive {
		return nil, shapeErr(a, in, "hidden %d: must be 0 to %d", a.Hidden, MaxAutoregressive)
	}
	if a.Hidden > 0 && k < 2 {
		return nil, shapeErr(a, in, "hidden units need at least 2 values, each given the ones before it")
	}
	return append([]int(nil), in...), nil
}

// NumParams implements Layer: the K×K weight A (its strictly lower
// triangle, K(K−1)/2 values, is trained) and, with hidden units, W, c
// and U.
func (a *Autoregressive) NumParams(in []int) int {
	if a == nil || len(in) < 1 {
		return 0
	}
	k := in[len(in)-1]
	return k*k + a.Hidden*(2*k+1)
}

// Condition sets the node holding the values the layer's outputs predict
// (teacher forcing), of the shape of its input with the batch axis, for
// the next Build; nil builds without them.
func (a *Autoregressive) Condition(v *graph.Node) { a.cond = v }

// Build implements Layer: z + v·(A ⊙ L)ᵀ + relu(v·(W ⊙ M)ᵀ + c)·(U ⊙ N)ᵀ
// for the condition v, the strictly lower-triangular mask L and the
// masks M and N of the hidden units' degrees, or z without a condition.
func (a *Autoregressive) Build(g *graph.Graph, x *graph.Node) (*graph.Node, error) {
	in, err := checkInput(a, g, x)
	if err != nil {
		return nil, err
	}
	k, h := in[len(in)-1], a.Hidden
	a.params = nil
	if _, err = a.param(g, "weight", []int{k, k}, graph.Zeros); err != nil {
		return nil, err
	}
	if h > 0 {
		limit := graph.Uniform(1 / math.Sqrt(float64(k)))
		if _, err = a.param(g, "hidden_weight", []int{h, k}, limit); err != nil {
			return nil, err
		}
		if _, err = a.param(g, "hidden_bias", []int{h}, limit); err != nil {
			return nil, err
		}
		if _, err = a.param(g, "output_weight", []int{k, h}, graph.Zeros); err != nil {
			return nil, err
		}
	}
	if a.cond == nil {
		return x, nil
	}
	if !a.cond.Shape().Eq(x.Shape()) {
		return nil, errors.Errorf("%s (%s): the values it is conditioned on are %v, but its input is %v", a.Name(), a.Kind(), a.cond.Shape(), x.Shape())
	}
	masked := func(p *graph.Param, suffix string, mask []float64, shape ...int) (*graph.Node, error) {
		m, err := g.Constant(a.Name()+"."+suffix, mask, shape...)
		if err != nil {
			return nil, err
		}
		return graph.Mask(p.Node, m)
	}
	lower, err := masked(a.params[0], "mask", lowerMask(k), k, k)
	if err != nil {
		return nil, err
	}
	added, err := graph.Project(a.cond, lower, nil)
	if err != nil {
		return nil, err
	}
	if h > 0 {
		reads, err := masked(a.params[1], "hidden_mask", readMask(k, h), h, k)
		if err != nil {
			return nil, err
		}
		feeds, err := masked(a.params[3], "output_mask", feedMask(k, h), k, h)
		if err != nil {
			return nil, err
		}
		pre, err := graph.Project(a.cond, reads, a.params[2].Node)
		if err != nil {
			return nil, err
		}
		act, err := graph.ReLU(pre)
		if err != nil {
			return nil, err
		}
		out, err := graph.Project(act, feeds, nil)
		if err != nil {
			return nil, err
		}
		if added, err = graph.Add(added, out); err != nil {
			return nil, err
		}
	}
	return graph.Add(x, added)
}

// lowerMask returns the k×k matrix, row by row, that is 1 strictly below
// the diagonal and 0 elsewhere.
func lowerMask(k int) []float64 {
	m := make([]float64, k*k)
	for i := range k {
		for j := range i {
			m[i*k+j] = 1
		}
	}
	return m
}

// degree returns hidden unit h's degree among k values: it reads the
// values before value m (0-based j < m) and feeds the values from value
// m on (k ≥ m).
func degree(h, k int) int { return 1 + h%(k-1) }

// readMask returns the h×k mask of the hidden units' reads: 1 where unit
// i reads value j.
func readMask(k, h int) []float64 {
	m := make([]float64, h*k)
	for i := range h {
		for j := range degree(i, k) {
			m[i*k+j] = 1
		}
	}
	return m
}

// feedMask returns the k×h mask of the hidden units' feeds: 1 where unit
// i feeds value j.
func feedMask(k, h int) []float64 {
	m := make([]float64, k*h)
	for i := range h {
		for j := degree(i, k); j < k; j++ {
			m[j*h+i] = 1
		}
	}
	return m
}

// JointWeights holds an Autoregressive layer's weights, masked, to
// compute its conditionals outside a graph: composing draws with them,
// and the music task's frame accuracy predicts with them.
type JointWeights struct {
	K, Hidden int
	// A is K×K, W Hidden×K, C Hidden and U K×Hidden, row by row, zero
	// where the masks are.
	A, W, C, U []float64

	pre []float64 // the hidden units' pre-activations while drawing
}

// NewJointWeights returns the weights of an Autoregressive layer over k
// values with hidden units, zero until Read.
func NewJointWeights(k, hidden int) *JointWeights {
	return &JointWeights{K: k, Hidden: hidden, A: make([]float64, k*k), W: make([]float64, hidden*k),
		C: make([]float64, hidden), U: make([]float64, k*hidden), pre: make([]float64, hidden)}
}

// Read reads the values of the layer's parameters (Params, after Build),
// masked; it allocates nothing.
func (w *JointWeights) Read(params []*graph.Param) error {
	dst := [][]float64{w.A, w.W, w.C, w.U}
	if len(params) != 1 && len(params) != 4 || (len(params) == 4) != (w.Hidden > 0) {
		return errors.Errorf("autoregressive weights: %d parameters for %d hidden units", len(params), w.Hidden)
	}
	for i, p := range params {
		if err := p.ReadInto(dst[i]); err != nil {
			return err
		}
	}
	k, h := w.K, w.Hidden
	for i := range k {
		clear(w.A[i*k+i : i*k+k])
	}
	for i := range h {
		d := degree(i, k)
		clear(w.W[i*k+d : i*k+k])
		for j := range d {
			w.U[j*h+i] = 0
		}
	}
	return nil
}

// Weights returns the layer's weights as its last Build made them and as
// they are now.
func (a *Autoregressive) Weights(k int) (*JointWeights, error) {
	w := NewJointWeights(k, a.Hidden)
	if err := w.Read(a.Params()); err != nil {
		return nil, errors.Wrapf(err, "%s (%s)", a.Name(), a.Kind())
	}
	return w, nil
}

// Added sets out[k] to what the values before value k add to its logit
// (logit_k − z_k), for the K values v.
func (w *JointWeights) Added(v, out []float64) error {
	k, h := w.K, w.Hidden
	if len(v) != k || len(out) != k {
		return errors.Errorf("autoregressive: %d values and %d outputs, want %d", len(v), len(out), k)
	}
	for i := range k {
		s := 0.0
		for j, a := range w.A[i*k : i*k+i] {
			s += a * v[j]
		}
		out[i] = s
	}
	for i := range h {
		a := w.C[i]
		for j, x := range w.W[i*k : i*k+k] {
			a += x * v[j]
		}
		if a <= 0 {
			continue
		}
		for j := degree(i, k); j < k; j++ {
			out[j] += w.U[j*h+i] * a
		}
	}
	return nil
}

// Draw samples the values of one step into v from the logits z that the
// layer's input gives them (len(z) = len(v) = K), value by value in order:
// value k is on with probability σ(logit_k / temperature), u giving the
// uniform draws in [0, 1), one per value; temperature 0 sets exactly the
// values whose logit is at least 0 (the most likely value of each in turn)
// and draws nothing. A nil JointWeights draws each value on its own, the
// independent sigmoids of a model without an Autoregressive layer.
func (w *JointWeights) Draw(z []float64, temperature float64, u func() float64, v []float64) error {
	k := len(z)
	if len(v) != k || (w != nil && k != w.K) {
		return errors.Errorf("autoregressive draw: %d logits and %d values for a layer over %d", k, len(v), w.size(k))
	}
	if w != nil {
		copy(w.pre, w.C)
	}
	for i := range k {
		l := z[i]
		if w != nil {
			for j, a := range w.A[i*k : i*k+i] {
				l += a * v[j]
			}
			for hu, a := range w.pre {
				if a > 0 {
					l += w.U[i*w.Hidden+hu] * a // zero where unit hu does not feed value i
				}
			}
		}
		on := l >= 0
		if temperature > 0 {
			on = u() < 1/(1+math.Exp(-l/temperature))
		}
		v[i] = 0
		if on {
			v[i] = 1
			if w != nil {
				for hu := range w.pre {
					w.pre[hu] += w.W[hu*k+i] // zero where unit hu does not read value i
				}
			}
		}
	}
	return nil
}

// size returns the number of values w is over, k for a nil w.
func (w *JointWeights) size(k int) int {
	if w == nil {
		return k
	}
	return w.K
}

// BatchValues implements BatchMemory: the product with the condition, the
// sum and their gradients (six values per input value), and the mask, the
// masked weight and its gradient (three K×K); with hidden units, their
// products, activations and gradients, and their masks likewise.
func (a *Autoregressive) BatchValues(in []int, batch int) int64 {
	if len(in) == 0 {
		return 0
	}
	k := int64(in[len(in)-1])
	n := 6*int64(batch)*int64(size(in)) + 3*k*k
	if h := int64(a.Hidden); h > 0 {
		rows := int64(batch) * int64(size(in)) / k
		n += 9*rows*h + 4*rows*k + 6*k*h + 2*h
	}
	return n
}

func init() {
	RegisterLayer("autoregressive",
		func(s *Settings) *Autoregressive { return &Autoregressive{Hidden: s.Int("hidden", 0)} },
		func(a *Autoregressive, s *Settings) bool {
			if a.Hidden != 0 {
				s.Set("hidden", a.Hidden)
			}
			return true
		})
}
