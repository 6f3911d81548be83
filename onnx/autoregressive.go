package onnx

import (
	"github.com/dlrun/dlrun/graph"
	pb "github.com/dlrun/dlrun/internal/onnxpb"
	"github.com/dlrun/dlrun/nn"
	"github.com/dlrun/dlrun/run"
	"github.com/pkg/errors"
)

// keysDoc describes the input an autoregressive output adds.
const keysDoc = "the keys the logits are conditioned on, of the logits' shape, 1 where a key sounds: logit k reads keys 0 to k-1 of its step alone (feed the keys drawn so far, anything above them, to draw a step key by key; feed a roll's next steps to score it)"

// jointDoc describes the logits of a model with an autoregressive output.
const jointDoc = "the logits of each key of the next step given the keys below it in that step, as the input keys hold them: their binary cross-entropies with the keys summed are the keys' negative log-likelihood"

// autoregressive converts a music model's Autoregressive output layer,
// the one the model's task conditions on the next step's keys in
// training. The keys it is conditioned on become a second graph input,
// run.KeysName, of the shape of the layer's output, and the layer's
// conditional logits are computed as training computes them:
//
//	logits = z + keys·(A ⊙ L)ᵀ + relu(keys·(W ⊙ M)ᵀ + c)·(U ⊙ N)ᵀ
//
// MatMul, Add and Relu with the masks L, M and N (nn.JointWeights) baked
// into the weights, which are constants.
func (c *converter) autoregressive(name string, l *nn.Autoregressive) error {
	if l != c.joint {
		return errors.New("an autoregressive layer is exported only as the model's last layer, its only one, which the task conditions on the next step's keys")
	}
	k := c.in[len(c.in)-1]
	suffixes := []string{"weight"}
	if l.Hidden > 0 {
		suffixes = append(suffixes, "hidden_weight", "hidden_bias", "output_weight")
	}
	params := make([]*graph.Param, len(suffixes))
	for i, s := range suffixes {
		if params[i] = c.g.ParamByName(name + "." + s); params[i] == nil {
			return errors.Errorf("the model has no parameter %s.%s", name, s)
		}
	}
	w := nn.NewJointWeights(k, l.Hidden)
	if err := w.Read(params); err != nil {
		return err
	}
	keys := c.b.fresh(run.KeysName)
	c.keysIn = valueInfo(keys, pb.TensorProto_FLOAT, keysDoc, c.dims(c.in)...)
	added := c.b.op("MatMul", name+"/lower", []string{keys, c.b.floats(name+".weight_masked_t", []int{k, k}, transposed(w.A, k, k))})
	if h := l.Hidden; h > 0 {
		pre := c.b.op("MatMul", name+"/hidden_matmul", []string{keys, c.b.floats(name+".hidden_weight_masked_t", []int{k, h}, transposed(w.W, h, k))})
		pre = c.b.op("Add", name+"/hidden_pre", []string{pre, c.b.floats(name+".hidden_bias", []int{h}, float32s(w.C))})
		act := c.b.op("Relu", name+"/hidden", []string{pre})
		out := c.b.op("MatMul", name+"/hidden_out", []string{act, c.b.floats(name+".output_weight_masked_t", []int{h, k}, transposed(w.U, k, h))})
		added = c.b.op("Add", name+"/added", []string{added, out})
	}
	c.x = c.b.op("Add", name, []string{c.x, added})
	return nil
}

// transposed returns the rows×cols matrix m (row by row) transposed, as
// float32.
func transposed(m []float64, rows, cols int) []float32 {
	out := make([]float32, len(m))
	for i := range rows {
		for j := range cols {
			out[j*rows+i] = float32(m[i*cols+j])
		}
	}
	return out
}

// float32s returns v as float32.
func float32s(v []float64) []float32 {
	out := make([]float32, len(v))
	for i, x := range v {
		out[i] = float32(x)
	}
	return out
}
