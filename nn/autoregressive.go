package nn

import (
	"math"

	"github.com/dlrun/dlrun/graph"
	"github.com/pkg/errors"
)

// Autoregressive is a joint output over the K values of a step (the 88
// keys of a piano roll's next step): a fully visible sigmoid belief net
// (Frey 1998; the autoregressive output of Larochelle & Murray's NADE
// without its hidden layer) whose biases are its input. Given the logits
// z of the layer before it (one per value, from a sequence model's state)
// it factorises p(v) = Π_k p(v_k | v_1..v_{k-1}) with
//
//	logit_k = z_k + Σ_{j<k} A_kj v_j
//
// for a K×K weight A of which only the strictly lower triangle is used
// (the rest stays 0), initialised to 0, so that training starts from
// independent sigmoids. Its outputs are those conditional logits: the sum
// of their binary cross-entropies with v is exactly −log p(v), the
// negative log-likelihood of the joint distribution that Draw samples.
//
// The values v it conditions on are the ones its outputs predict, given
// by the task that trains it (Condition; teacher forcing): train's
// next-step task gives it the next step's keys (AutoregressiveOutput finds
// the layer). Without a condition (a
// model built for composing) the outputs are z, each value's logit given
// that none before it is on, the start from which Draw samples value by
// value. The input is [..., K] (any leading axes, as Dense's output over
// a sequence); the output has its shape. In a model file, autoregressive.
type Autoregressive struct {
	base

	cond   *graph.Node
	weight *graph.Param
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
	if k := in[len(in)-1]; k > MaxAutoregressive {
		return nil, shapeErr(a, in, "%v: %d values, at most %d", ErrAutoregressiveSize, k, MaxAutoregressive)
	}
	return append([]int(nil), in...), nil
}

// NumParams implements Layer: the K×K weight (its strictly lower
// triangle, K(K−1)/2 values, is trained).
func (a *Autoregressive) NumParams(in []int) int {
	if a == nil || len(in) < 1 {
		return 0
	}
	k := in[len(in)-1]
	return k * k
}

// Condition sets the node holding the values the layer's outputs predict
// (teacher forcing), of the shape of its input with the batch axis, for
// the next Build; nil builds without them.
func (a *Autoregressive) Condition(v *graph.Node) { a.cond = v }

// Build implements Layer: z + v·(A ⊙ L)ᵀ for the condition v and the
// strictly lower-triangular mask L, or z without a condition.
func (a *Autoregressive) Build(g *graph.Graph, x *graph.Node) (*graph.Node, error) {
	in, err := checkInput(a, g, x)
	if err != nil {
		return nil, err
	}
	k := in[len(in)-1]
	a.params = nil
	if a.weight, err = a.param(g, "weight", []int{k, k}, graph.Zeros); err != nil {
		return nil, err
	}
	if a.cond == nil {
		return x, nil
	}
	if !a.cond.Shape().Eq(x.Shape()) {
		return nil, errors.Errorf("%s (%s): the values it is conditioned on are %v, but its input is %v", a.Name(), a.Kind(), a.cond.Shape(), x.Shape())
	}
	mask, err := g.Constant(a.Name()+".mask", lowerMask(k), k, k)
	if err != nil {
		return nil, err
	}
	w, err := graph.Mask(a.weight.Node, mask)
	if err != nil {
		return nil, err
	}
	below, err := graph.Project(a.cond, w, nil)
	if err != nil {
		return nil, err
	}
	return graph.Add(x, below)
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

// Weights returns the layer's weight A as built (row k holds the weights
// of the values before value k; the diagonal and above are not used), or
// nil before Build.
func (a *Autoregressive) Weights() []float64 {
	if a == nil || a.weight == nil {
		return nil
	}
	return a.weight.Values()
}

// Draw samples the values of one step into v from the logits z that the
// layer's input gives them (len(z) = len(v) = K), value by value in order:
// value k is on with probability σ(logit_k / temperature), logit_k = z_k +
// Σ_{j<k} A_kj v_j, u giving the uniform draws in [0, 1), one per value;
// temperature 0 sets exactly the values whose logit is at least 0 (the
// most likely value of each in turn) and draws nothing. weights is A as
// Weights returns it; nil draws each value on its own, the independent
// sigmoids of a model without this layer.
func Draw(z, weights []float64, temperature float64, u func() float64, v []float64) error {
	k := len(z)
	if len(v) != k || (weights != nil && len(weights) != k*k) {
		return errors.Errorf("autoregressive draw: %d logits, %d values and %d weights: want K, K and K×K (or none)", k, len(v), len(weights))
	}
	for i := range k {
		l := z[i]
		if weights != nil {
			l += Below(weights, v, i)
		}
		on := l >= 0
		if temperature > 0 {
			on = u() < 1/(1+math.Exp(-l/temperature))
		}
		v[i] = 0
		if on {
			v[i] = 1
		}
	}
	return nil
}

// Below returns Σ_{j<k} A_kj v_j, what the values before value k add to
// its logit, for the weight A (K×K, as Weights returns it) and the K
// values v.
func Below(weights, v []float64, k int) float64 {
	n := len(v)
	s := 0.0
	for j, a := range weights[k*n : k*n+k] {
		s += a * v[j]
	}
	return s
}

// BatchValues implements BatchMemory: the product with the condition, the
// sum and their gradients (six values per input value), and the mask, the
// masked weight and its gradient (three K×K).
func (a *Autoregressive) BatchValues(in []int, batch int) int64 {
	if len(in) == 0 {
		return 0
	}
	k := int64(in[len(in)-1])
	return 6*int64(batch)*int64(size(in)) + 3*k*k
}

func init() {
	RegisterLayer("autoregressive",
		func(*Settings) *Autoregressive { return NewAutoregressive() },
		func(*Autoregressive, *Settings) bool { return true })
}
